"""The front-desk tablet (kiosk mode): staff hand the tablet to a patient
locked to one response; leaving needs the clinic's staff PIN.

What the browser is locked to lives in its session (see kiosk_views); this
module keeps the PIN (an argon2 hash, like a password) and says whether a
try may be taken: after ``MAX_TRIES`` wrong PINs in a row the tablet waits
``LOCK_MINUTES`` before the next try, whatever it is, and each further
wrong PIN locks it again until the right one is given."""
import re
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit, clock
from app.core.errors import FieldErrors
from app.core.passwords import hash_password, verify_password
from app.questionnaires.models import QuestionnaireSettings
from tenants.db import db

PIN = re.compile(r"^[0-9]{4,8}$")
MAX_TRIES = 5
LOCK_MINUTES = 5


def _settings() -> QuestionnaireSettings | None:
    return db.session.scalar(select(QuestionnaireSettings))


def has_pin() -> bool:
    row = _settings()
    return row is not None and bool(row.kiosk_pin_hash)


def set_pin(pin: str, confirm: str, *, actor_id: int | None) -> None:
    """Set the clinic's tablet PIN (4 to 8 digits); raises FieldErrors by field. The caller commits."""
    pin, confirm = (pin or "").strip(), (confirm or "").strip()
    if not PIN.match(pin):
        raise FieldErrors({"pin": _("The PIN is 4 to 8 digits.")})
    if confirm != pin:
        raise FieldErrors({"pin_confirm": _("The two PINs differ.")})
    row = _settings()
    if row is None:
        row = QuestionnaireSettings()
        db.session.add(row)
    row.kiosk_pin_hash = hash_password(pin)
    row.updated_by, row.updated_at = actor_id, clock.utcnow()
    audit.record("kiosk_pin_changed", actor_id=actor_id)


@dataclass
class Tries:
    """A kiosk's wrong tries so far, kept with its lock (``fails``; ``until``: a POSIX time)."""

    fails: int = 0
    until: float = 0.0

    def wait_seconds(self) -> int:
        left = self.until - clock.utcnow().timestamp()
        return int(left) + 1 if left > 0 else 0


@dataclass
class Verdict:
    ok: bool
    tries: Tries
    wait_seconds: int = 0   # refused without a try: the lock runs
    left: int = MAX_TRIES   # tries before the lock


def check_pin(pin: str, tries: Tries) -> Verdict:
    """Verify a PIN offered at the kiosk, counting a wrong one."""
    wait = tries.wait_seconds()
    if wait:
        return Verdict(False, tries, wait_seconds=wait, left=0)
    row = _settings()
    if row is not None and row.kiosk_pin_hash and PIN.match((pin or "").strip()) \
            and verify_password(row.kiosk_pin_hash, pin.strip()):
        return Verdict(True, Tries())
    fails = tries.fails + 1  # once locked, every further wrong PIN locks again until a right one
    until = 0.0
    if fails >= MAX_TRIES:
        until = (clock.utcnow() + timedelta(minutes=LOCK_MINUTES)).timestamp()
    counted = Tries(fails, until)
    return Verdict(False, counted, wait_seconds=counted.wait_seconds(), left=max(0, MAX_TRIES - fails))
