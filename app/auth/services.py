"""Sign-in, lock-out and staff management. No request objects here."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth import labels  # noqa: F401  (how other pages name roles)
from app.auth.models import StaffUser, new_nonce
from app.core import audit
from app.core.access import ROLES
from app.core.errors import FieldErrors
from app.core.passwords import hash_password, needs_rehash, verify_password
from tenants.db import db
from tenants.models import utcnow
from tenants.services import on_tenant_created

MIN_PASSWORD = 10
ADMIN_ROLES = ("owner", "admin")


class StaffError(FieldErrors):
    def __init__(self, field: str, message: str):
        super().__init__({field: message})
        self.field, self.message = field, message


@dataclass
class SignIn:
    user: StaffUser | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None and self.locked_until is None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def authenticate(email: str, password: str, *, max_failures: int, lock_minutes: int) -> SignIn:
    """Check a sign-in; count failures and lock the account after too many."""
    user = find_by_email(email)
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        audit.record("sign_in_locked", actor=user)
        db.session.commit()
        return SignIn(None, locked_until=user.locked_until)
    if not verify_password(user.password_hash if user else None, password) or not (user and user.active):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + timedelta(minutes=lock_minutes)
                user.failed_logins = 0
            audit.record("sign_in_failed", actor=user, email=user.email)
            db.session.commit()
            if user.locked_until and user.locked_until > now:
                return SignIn(None, locked_until=user.locked_until)
        else:
            audit.record("sign_in_failed", email=normalise_email(email)[:254])
            db.session.commit()
        return SignIn(None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record("sign_in", actor=user)
    db.session.commit()
    return SignIn(user)


def load_session_user(tenant_id: int, user_id: int, nonce: str) -> StaffUser | None:
    user = db.session.get(StaffUser, (tenant_id, user_id))
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return user


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


def _check_new_staff(email: str, name: str, role: str, password: str) -> None:
    if role not in ROLES:
        raise StaffError("role", _("Unknown role."))
    if not name.strip():
        raise StaffError("name", _("Name is required."))
    if len(password) < MIN_PASSWORD:
        raise StaffError("password", _("Password must have at least %(count)d characters.", count=MIN_PASSWORD))
    if find_by_email(email) is not None:
        raise StaffError("email", _("A staff member with this email exists already."))


def add_staff(email: str, name: str, role: str, password: str, *, actor=None) -> StaffUser:
    email = normalise_email(email)
    _check_new_staff(email, name, role, password)
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record("staff_added", actor=actor, staff_id=user.id, role=role)
    return user


def _active_admins() -> int:
    return db.session.execute(
        select(func.count()).select_from(StaffUser)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(ADMIN_ROLES))
    ).scalar_one()


def update_staff(user: StaffUser, *, role: str, active: bool, actor) -> None:
    """Change a role or (de)activate; the clinic always keeps an active admin."""
    if role not in ROLES:
        raise StaffError("role", _("Unknown role."))
    if user.role == "owner" and actor.role != "owner" and (role != "owner" or not active):
        raise StaffError("role", _("Only an owner can change an owner's account."))
    was_admin = user.active and user.role in ADMIN_ROLES
    stays_admin = active and role in ADMIN_ROLES
    if was_admin and not stays_admin and _active_admins() <= 1:
        raise StaffError("role", _("The clinic must keep at least one active owner or admin."))
    changes: dict[str, Any] = {}  # field -> [before, after], for the audit trail
    if role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
    if active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
        if not active:
            user.session_nonce = new_nonce()
    if changes:
        audit.record("staff_changed", actor=actor, staff_id=user.id, **changes)


@on_tenant_created
def create_owner(tenant, *, admin_email: str | None = None, admin_password: str | None = None, **_):
    """The first account of a new clinic (``flask tenants create``)."""
    if not admin_email:
        return
    try:
        add_staff(admin_email, "Owner", "owner", admin_password or "")
    except StaffError as exc:
        raise ValueError(f"{exc.field}: {exc.message}") from exc
