"""Optional two-factor sign-in for staff: a TOTP app (app/auth/totp.py) and
ten single-use recovery codes. The secret is encrypted at rest (AES-GCM,
app/core/crypto); recovery codes are kept as keyed hashes only. An owner
can require it for roles (the clinic's session policy); a person whose
role requires it sets it up at sign-in and cannot switch it off."""
import secrets

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from app.auth import totp
from app.auth.models import RecoveryCode, StaffUser, TwoFactor
from app.core import audit, crypto, sessions
from app.core.errors import FieldErrors
from app.core.passwords import verify_password
from tenants.db import db
from tenants.models import utcnow

RECOVERY_CODES = 10
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class TwoFactorError(FieldErrors):
    def __init__(self, field: str, message: str):
        super().__init__({field: message})
        self.field, self.message = field, message


def _row(user: StaffUser) -> TwoFactor | None:
    return db.session.scalar(select(TwoFactor).where(TwoFactor.user_id == user.id))


def enabled(user: StaffUser) -> bool:
    row = _row(user)
    return row is not None and row.enabled_at is not None


def required(user: StaffUser) -> bool:
    return user.role in sessions.rules().two_factor_roles


def _secret(row: TwoFactor) -> str:
    return crypto.decrypt(row.secret_enc, row.tenant_id) or ""


def begin(user: StaffUser) -> str:
    """A new secret waiting for its first code (replacing one not yet
    confirmed); returns it. The caller commits."""
    row = _row(user)
    if row is not None and row.enabled_at is not None:
        raise TwoFactorError("code", _("Two-factor sign-in is on already."))
    secret = totp.new_secret()
    if row is None:
        row = TwoFactor(user_id=user.id, secret_enc=b"")
        db.session.add(row)
    row.secret_enc = crypto.encrypt(secret, user.tenant_id)
    row.last_step = None
    return secret


def pending_secret(user: StaffUser) -> str | None:
    row = _row(user)
    return _secret(row) if row is not None and row.enabled_at is None else None


def setup_page(user: StaffUser, secret: str, issuer: str) -> dict:
    """What the set-up page shows: the secret in blocks and its QR code."""
    uri = totp.provisioning_uri(secret, account=user.email, issuer=issuer)
    return {"secret": totp.grouped(secret), "uri": uri, "qr": totp.qr_svg(uri)}


def confirm(user: StaffUser, code: str) -> list[str]:
    """The first code from the app switches it on; returns the recovery codes
    (shown once). The caller commits."""
    row = _row(user)
    if row is None or row.enabled_at is not None:
        raise TwoFactorError("code", _("Start the set-up again."))
    step = totp.verify(_secret(row), code, last_step=None)
    if step is None:
        raise TwoFactorError("code", _("This code is not right. Enter the six digits your app shows now."))
    row.enabled_at, row.last_step = utcnow(), step
    audit.record("two_factor_enabled", actor=user, staff_id=user.id)
    return _new_recovery_codes(user)


def _code_hash(user: StaffUser, code: str) -> str:
    plain = "".join(ch for ch in code.lower() if ch.isalnum())
    return crypto.blind_index(plain, user.tenant_id, f"recovery-code:{user.id}")


def _new_recovery_codes(user: StaffUser) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _i in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(user, raw)))
    return codes


def check(user: StaffUser, code: str) -> bool:
    """A code from the app (each step once) or an unused recovery code
    (then used up). The caller commits."""
    row = _row(user)
    if row is None or row.enabled_at is None:
        return False
    compact = "".join(code.split())
    if compact.isdigit():
        step = totp.verify(_secret(row), compact, last_step=row.last_step)
        if step is None:
            return False
        # the step is taken in one statement: two sign-ins with one code cannot both pass
        taken = db.session.execute(update(TwoFactor).where(
            TwoFactor.id == row.id, (TwoFactor.last_step.is_(None)) | (TwoFactor.last_step < step))
            .values(last_step=step), execution_options={"synchronize_session": "fetch"})
        return bool(getattr(taken, "rowcount", 0))
    used = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(user, compact),
        RecoveryCode.used_at.is_(None)).values(used_at=utcnow()), execution_options={"synchronize_session": False})
    if not getattr(used, "rowcount", 0):
        return False
    audit.record("recovery_code_used", actor=user, staff_id=user.id, left=recovery_codes_left(user))
    return True


def recovery_codes_left(user: StaffUser) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def _confirm_person(user: StaffUser, password: str, code: str) -> None:
    if not verify_password(user.password_hash, password):
        raise TwoFactorError("password", _("This is not your current password."))
    if not check(user, code):
        raise TwoFactorError("code", _("This code is not right."))


def disable(user: StaffUser, *, password: str, code: str) -> None:
    """Switch it off, with the password and a code; not while the role requires it."""
    if required(user):
        raise TwoFactorError("code", _("Your clinic requires two-factor sign-in for your role."))
    _confirm_person(user, password, code)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    audit.record("two_factor_disabled", actor=user, staff_id=user.id)


def renew_recovery_codes(user: StaffUser, *, password: str, code: str) -> list[str]:
    """Ten new codes; the old ones stop working."""
    if not enabled(user):
        raise TwoFactorError("code", _("Two-factor sign-in is off."))
    _confirm_person(user, password, code)
    audit.record("recovery_codes_renewed", actor=user, staff_id=user.id)
    return _new_recovery_codes(user)
