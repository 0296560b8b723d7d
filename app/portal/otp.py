"""One-time sign-in codes for patients: 6 digits, 5 minutes, single use.

Only an HMAC of the code (keyed by the clinic's data key, bound to the
number) is stored. Sending and verifying are limited per number and per
client address; the counts live in the database so every worker sees them.
Writes happen before a refusal is raised: the caller commits either way.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.clinic import services as clinic_profile
from app.core import crypto, identity
from app.notifications import services as notifications
from app.patients import services as patients
from app.portal.models import SigninCode, SigninEvent
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import utcnow

DEFAULTS = {
    "PORTAL_CODE_MINUTES": 5,
    "PORTAL_CODE_ATTEMPTS": 5,          # wrong tries before a code dies
    "PORTAL_RESEND_SECONDS": 60,
    "PORTAL_SENDS_PER_NUMBER": 5,       # per hour
    "PORTAL_SENDS_PER_ADDRESS": 20,     # per hour
    "PORTAL_FAILURES_PER_NUMBER": 10,   # per hour
    "PORTAL_FAILURES_PER_ADDRESS": 30,  # per hour
}


class SigninRefused(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass
class Sent:
    mobile: str
    minutes: int


def _limit(name: str) -> int:
    return current_app.config.get(name, DEFAULTS[name])


def normalise(raw: str) -> str:
    mobile = identity.normalise_mobile(raw)
    if not identity.is_mobile(mobile):
        raise SigninRefused("mobile", _("A mobile number has 11 digits and starts with 13-19."))
    return mobile


def mobile_index(mobile: str) -> str:
    return crypto.blind_index(mobile, require_tenant_id(), patients.MOBILE_PURPOSE)


def _hash(index: str, code: str) -> str:
    return crypto.blind_index(f"{index}:{code}", require_tenant_id(), "signin_code")


def _count(kind: str, since: datetime, *, index: str | None = None, ip: str | None = None) -> int:
    query = select(func.count()).select_from(SigninEvent).where(SigninEvent.kind == kind, SigninEvent.at >= since)
    query = query.where(SigninEvent.mobile_index == index) if index is not None else query.where(SigninEvent.ip == ip)
    return db.session.execute(query).scalar_one()


def request_code(raw_mobile: str, ip: str, *, locale: str = "zh_CN", now: datetime | None = None) -> Sent:
    """Send a fresh code by SMS (through the outbox); older codes stop working."""
    mobile = normalise(raw_mobile)
    now = now or utcnow()
    index, hour_ago = mobile_index(mobile), now - timedelta(hours=1)
    last = db.session.scalar(select(func.max(SigninEvent.at)).where(
        SigninEvent.kind == "sent", SigninEvent.mobile_index == index))
    wait = _limit("PORTAL_RESEND_SECONDS")
    if last is not None and last > now - timedelta(seconds=wait):
        left = wait - int((now - last).total_seconds())
        raise SigninRefused("wait", _("A code was just sent; you can ask for another in %(n)d seconds.", n=left))
    if _count("sent", hour_ago, index=index) >= _limit("PORTAL_SENDS_PER_NUMBER"):
        raise SigninRefused("number_limit", _("Too many codes for this number; please try again in an hour."))
    if _count("sent", hour_ago, ip=ip) >= _limit("PORTAL_SENDS_PER_ADDRESS"):
        raise SigninRefused("address_limit", _("Too many codes from this network; please try again later."))
    db.session.execute(update(SigninCode).where(SigninCode.mobile_index == index, SigninCode.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session=False))
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = _limit("PORTAL_CODE_MINUTES")
    row = SigninCode(mobile_index=index, code_hash=_hash(index, code), expires_at=now + timedelta(minutes=minutes),
                     ip=ip[:45], created_at=now)
    db.session.add(row)
    db.session.add(SigninEvent(kind="sent", mobile_index=index, ip=ip[:45], at=now))
    db.session.flush()
    matches = patients.search(mobile).patients
    recipient = notifications.Recipient("patient", matches[0].id if len(matches) == 1 else 0, "",
                                        mobile=mobile, locale=locale)
    clinic = clinic_profile.name()
    # the outbox keeps the text masked; the code goes sealed to the send and never after it expires
    notifications.notify("signin_code", recipient, {"code": code, "minutes": minutes, "clinic": clinic},
                         idempotency_key=f"signin:{row.id}", channels=("sms",), secret_until=row.expires_at)
    return Sent(mobile, minutes)


def _fail(index: str, ip: str, now: datetime, reason: str, message: str) -> SigninRefused:
    db.session.add(SigninEvent(kind="failed", mobile_index=index, ip=ip[:45], at=now))
    return SigninRefused(reason, message)


def verify(raw_mobile: str, code: str, ip: str, *, now: datetime | None = None) -> str:
    """Check a code; return the number's blind index. Raises SigninRefused."""
    mobile = normalise(raw_mobile)
    now = now or utcnow()
    index, hour_ago = mobile_index(mobile), now - timedelta(hours=1)
    if _count("failed", hour_ago, index=index) >= _limit("PORTAL_FAILURES_PER_NUMBER"):
        raise SigninRefused("number_limit", _("Too many wrong codes for this number; please try again in an hour."))
    if _count("failed", hour_ago, ip=ip) >= _limit("PORTAL_FAILURES_PER_ADDRESS"):
        raise SigninRefused("address_limit", _("Too many wrong codes from this network; please try again later."))
    code = (code or "").strip()
    row_id = db.session.scalar(select(SigninCode.id).where(
        SigninCode.mobile_index == index, SigninCode.used_at.is_(None), SigninCode.expires_at > now)
        .order_by(SigninCode.created_at.desc()).limit(1))
    if row_id is None:
        raise _fail(index, ip, now, "expired", _("This code has expired or was used already; ask for a new one."))
    # Take an attempt before checking, in one statement: the row lock makes
    # parallel guesses queue, and each sees the count the previous one left,
    # so a code is checked at most PORTAL_CODE_ATTEMPTS times however many
    # guesses arrive at once.
    limit = _limit("PORTAL_CODE_ATTEMPTS")
    taken = db.session.execute(
        update(SigninCode).where(SigninCode.id == row_id, SigninCode.used_at.is_(None), SigninCode.expires_at > now,
                                 SigninCode.attempts < limit)
        .values(attempts=SigninCode.attempts + 1).returning(SigninCode.attempts, SigninCode.code_hash)
        .execution_options(synchronize_session=False)).first()
    if taken is None:  # used, or its attempts spent, by requests a moment ago
        raise _fail(index, ip, now, "expired", _("This code has expired or was used already; ask for a new one."))
    tries, code_hash = taken
    if not (len(code) == 6 and code.isdigit()) or not secrets.compare_digest(code_hash, _hash(index, code)):
        if tries >= limit:
            db.session.execute(update(SigninCode).where(SigninCode.id == row_id).values(used_at=now)
                               .execution_options(synchronize_session=False))
            raise _fail(index, ip, now, "dead", _("Wrong code too many times; ask for a new one."))
        raise _fail(index, ip, now, "wrong", _("Wrong code; please check the text message."))
    claimed = db.session.execute(update(SigninCode).where(SigninCode.id == row_id, SigninCode.used_at.is_(None))
                                 .values(used_at=now).returning(SigninCode.id)
                                 .execution_options(synchronize_session=False)).first()
    if claimed is None:  # used by a concurrent request a moment ago
        raise _fail(index, ip, now, "expired", _("This code has expired or was used already; ask for a new one."))
    return index
