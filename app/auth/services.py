"""Sign-in, sessions and staff management. No request objects here.

Signing in takes a try from the throttle (app/auth/throttle.py), checks the
password and, when the account has a second factor or its role requires
one, asks for it (app/auth/two_factor.py) before a session is opened.
Sessions are server-side (app/core/sessions.py): deactivation, a role or
password change end them at once. Only owners grant or take away the owner
role; the clinic always keeps an active owner."""
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth import labels, throttle, two_factor  # noqa: F401  (labels: how other pages name roles)
from app.auth.models import StaffUser
from app.core import audit, sessions
from app.core.access import ROLES
from app.core.errors import FieldErrors
from app.core.passwords import hash_password, needs_rehash, verify_password
from tenants.db import db
from tenants.models import utcnow
from tenants.services import on_tenant_created

MIN_PASSWORD = 10
KIND = "staff"  # the sessions' kind


class StaffError(FieldErrors):
    def __init__(self, field: str, message: str):
        super().__init__({field: message})
        self.field, self.message = field, message


@dataclass
class SignIn:
    user: StaffUser | None
    refused: throttle.Verdict | None = None  # too many tries: nothing was checked
    second_step: str = ""  # "code" (enter a code) or "setup" (the role requires setting one up first)

    @property
    def ok(self) -> bool:
        return self.user is not None and self.refused is None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


# ---------------------------------------------------------------- sign-in

def authenticate(email: str, password: str, *, address: str) -> SignIn:
    """Check a sign-in's email and password (the caller commits nothing: the
    audit rows are committed here). A wrong password and an unknown email
    are answered alike."""
    email = normalise_email(email)
    verdict = throttle.claim(email, address)
    user = find_by_email(email)
    if not verdict.allowed:
        audit.record("sign_in_throttled", actor=user, email=email[:254], reason=verdict.reason)
        db.session.commit()
        return SignIn(None, refused=verdict)
    if not verify_password(user.password_hash if user else None, password) or not (user and user.active):
        audit.record("sign_in_failed", actor=user, email=email[:254])
        db.session.commit()
        return SignIn(None)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    second = "code" if two_factor.enabled(user) else "setup" if two_factor.required(user) else ""
    throttle.release(verdict, clear_account=not second)
    return SignIn(user, second_step=second)


def second_step(user: StaffUser, code: str, *, address: str) -> SignIn:
    """Check the code of a sign-in whose password was right: a code from the
    app, or a recovery code. Wrong codes count like wrong passwords."""
    verdict = throttle.claim(user.email, address)
    if not verdict.allowed:
        audit.record("sign_in_throttled", actor=user, email=user.email, reason=verdict.reason)
        db.session.commit()
        return SignIn(None, refused=verdict)
    if not user.active or not two_factor.check(user, code):
        audit.record("sign_in_failed", actor=user, email=user.email, step="code")
        db.session.commit()
        return SignIn(None)
    throttle.release(verdict, clear_account=True)
    return SignIn(user)


def start_session(user: StaffUser, *, ip: str, user_agent: str) -> str:
    """Open a server-side session for a completed sign-in; commits."""
    user.session_token = sessions.start(KIND, user.id, ip=ip, user_agent=user_agent)
    user.last_login_at = utcnow()
    audit.record("sign_in", actor=user)
    db.session.commit()
    return user.session_token


def load_session_user(token: str) -> StaffUser | None:
    """The active staff member of a live session in this clinic, or None."""
    record = sessions.load(KIND, token)
    if record is None:
        return None
    user = db.session.scalar(select(StaffUser).where(StaffUser.id == record.subject_id))
    if user is None or not user.active:
        return None
    user.session_token, user.session_id = token, record.id
    return user


def sign_out(user: StaffUser) -> None:
    sessions.end(KIND, user.session_token, "signed_out")
    audit.record("sign_out", actor=user)
    db.session.commit()


def live_sessions(user: StaffUser) -> list:
    return sessions.live(KIND, user.id)


def end_session(user: StaffUser, session_id: int) -> bool:
    """End one of the user's own other sessions (the caller commits)."""
    if session_id == user.session_id or not sessions.end_one(KIND, user.id, session_id):
        return False
    audit.record("session_ended", actor=user, session_id=session_id)
    return True


def end_other_sessions(user: StaffUser) -> int:
    ended = sessions.end_all(KIND, user.id, reason="ended", keep_id=user.session_id)
    if ended:
        audit.record("session_ended", actor=user, count=ended)
    return ended


# ---------------------------------------------------------------- passwords

def check_new_password(password: str, confirm: str | None = None, field: str = "new_password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise StaffError(field, _("Password must have at least %(count)d characters.", count=MIN_PASSWORD))
    if confirm is not None and password != confirm:
        raise StaffError("confirm", _("The two passwords differ."))


def change_password(user: StaffUser, current: str, new: str, confirm: str, *, ip: str, user_agent: str) -> str:
    """Set a new password (the current one confirms it is the user); every
    session of the account ends and this browser gets a new one. Returns
    its token; commits."""
    if not verify_password(user.password_hash, current):
        raise StaffError("current_password", _("This is not your current password."))
    check_new_password(new, confirm)
    set_password(user, new, reason="password_changed")
    audit.record("password_changed", actor=user)
    user.session_token = sessions.start(KIND, user.id, ip=ip, user_agent=user_agent)
    db.session.commit()
    return user.session_token


def set_password(user: StaffUser, password: str, *, reason: str) -> None:
    """Store a new password and end every session of the account."""
    user.password_hash = hash_password(password)
    sessions.end_all(KIND, user.id, reason=reason)


# ---------------------------------------------------------------- staff

def list_staff() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.created_at)))


def active_staff(roles: tuple[str, ...]) -> list[StaffUser]:
    """Active staff of the clinic holding one of ``roles``, by name."""
    return list(db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True), StaffUser.role.in_(roles))
                                   .order_by(StaffUser.name, StaffUser.id)))


def get_many(user_ids) -> dict[int, StaffUser]:
    """Staff by id, in one query (unknown ids are left out)."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))}


def get_staff(user_id: int) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.id == user_id))


def grantable_roles(actor) -> tuple[str, ...]:
    """The roles ``actor`` may give (None: the platform, creating a clinic)."""
    if actor is None or actor.role == "owner":
        return ROLES
    return tuple(r for r in ROLES if r != "owner")


def _check_new_staff(email: str, name: str, role: str, password: str, actor) -> None:
    if role not in ROLES:
        raise StaffError("role", _("Unknown role."))
    if role not in grantable_roles(actor):
        raise StaffError("role", _("Only an owner can give the owner role."))
    if not name.strip():
        raise StaffError("name", _("Name is required."))
    check_new_password(password, field="password")
    if find_by_email(email) is not None:
        raise StaffError("email", _("A staff member with this email exists already."))


def add_staff(email: str, name: str, role: str, password: str, *, actor=None) -> StaffUser:
    email = normalise_email(email)
    _check_new_staff(email, name, role, password, actor)
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record("staff_added", actor=actor, staff_id=user.id, role=role)
    return user


def _active_owners() -> int:
    return db.session.execute(
        select(func.count()).select_from(StaffUser).where(StaffUser.active.is_(True), StaffUser.role == "owner")
    ).scalar_one()


def update_staff(user: StaffUser, *, role: str, active: bool, actor) -> None:
    """Change a role or (de)activate. Only owners touch owners' accounts and
    give the owner role; the clinic keeps an active owner. A changed role or
    a deactivation ends the person's sessions at once. The caller commits."""
    if role not in ROLES:
        raise StaffError("role", _("Unknown role."))
    if actor.role != "owner" and user.role == "owner":
        raise StaffError("role", _("Only an owner can change an owner's account."))
    if role not in grantable_roles(actor):
        raise StaffError("role", _("Only an owner can give the owner role."))
    stays_owner = active and role == "owner"
    if user.active and user.role == "owner" and not stays_owner and _active_owners() <= 1:
        raise StaffError("role", _("The clinic must keep at least one active owner."))
    changes: dict[str, Any] = {}  # field -> [before, after], for the audit trail
    if role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
    if active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    if changes:
        audit.record("staff_changed", actor=actor, staff_id=user.id, **changes)
    if "role" in changes or not active:
        sessions.end_all(KIND, user.id, reason="deactivated" if not active else "role_changed")


def sign_in_delays(staff: list[StaffUser]) -> dict[int, int]:
    """Staff id -> failed sign-ins that make the account wait now."""
    counts = throttle.failures([u.email for u in staff])
    return {u.id: counts[u.email] for u in staff if u.email in counts}


def clear_sign_in_delay(user: StaffUser, *, actor) -> None:
    throttle.clear(user.email)
    audit.record("sign_in_delay_cleared", actor=actor, staff_id=user.id)


@on_tenant_created
def create_owner(tenant, *, admin_email: str | None = None, admin_password: str | None = None, **_):
    """The first account of a new clinic (``flask tenants create``)."""
    if not admin_email:
        return
    try:
        add_staff(admin_email, "Owner", "owner", admin_password or "")
    except StaffError as exc:
        raise ValueError(f"{exc.field}: {exc.message}") from exc
