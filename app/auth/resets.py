"""Forgotten staff passwords: a link by email, single use, valid 30
minutes, only its hash kept. Asking for one answers the same whether or not
the email has an account; a newer link replaces the older; at most a few a
person an hour (the rest are silently not sent). Setting the new password
ends every session of the account. The view sends the email through the
notification outbox."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from app.auth import services, throttle
from app.auth.models import PasswordReset, StaffUser
from app.core import audit
from tenants.db import db
from tenants.models import utcnow

VALID_FOR = timedelta(minutes=30)
PER_HOUR = 3


@dataclass
class Link:
    user: StaffUser
    token: str
    minutes: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_link(email: str) -> Link | None:
    """A new link for an active account with this email, or None (no such
    account, or enough links this hour). The caller commits."""
    user = services.find_by_email(email)
    if user is None or not user.active:
        return None
    now = utcnow()
    recent = db.session.scalar(select(func.count()).select_from(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1)))
    if (recent or 0) >= PER_HOUR:
        return None
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                       .values(used_at=now), execution_options={"synchronize_session": False})
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordReset(user_id=user.id, token_hash=_hash(token), created_at=now, expires_at=now + VALID_FOR))
    audit.record("password_reset_requested", actor=user, staff_id=user.id)
    return Link(user, token, int(VALID_FOR.total_seconds() // 60))


def valid(token: str) -> PasswordReset | None:
    """The unused, unexpired link a token names, or None."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(token),
                                                        PasswordReset.used_at.is_(None)))
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def complete(token: str, password: str, confirm: str) -> StaffUser | None:
    """Set the new password from a link (then used up); None if the link is
    no longer valid. Raises services.StaffError for a password that will not
    do. Ends every session of the account and lifts its sign-in delay. The
    caller commits."""
    row = valid(token)
    if row is None:
        return None
    services.check_new_password(password, confirm)
    user = services.get_staff(row.user_id)
    if user is None or not user.active:
        return None
    taken = db.session.execute(update(PasswordReset).where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
                               .values(used_at=utcnow()), execution_options={"synchronize_session": "fetch"})
    if not getattr(taken, "rowcount", 0):  # the same link used twice at once
        return None
    services.set_password(user, password, reason="password_reset")
    throttle.clear(user.email)
    audit.record("password_reset", actor=user, staff_id=user.id)
    return user
