"""The clinic's profile (the owner's pages): its address, phone, logo and the
zone of its clock, and its sign-in settings (session timeouts, roles that must
use two-factor sign-in)."""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.clinic.models import ClinicProfile
from app.core import audit, clock, sessions, storage
from app.core.access import ROLES
from app.core.errors import FieldErrors
from tenants.context import require_tenant_id
from tenants.db import db

LOGO_MAX_BYTES = 1024 * 1024
# A logo's type is what its first bytes say, never what its name or the browser claims.
LOGO_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png", ".png"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"))


class ProfileError(FieldErrors):
    """A profile that cannot be saved, by form field."""


def timezone() -> str:
    return clock.zone_name()


@dataclass
class Contact:
    address: str = ""
    phone: str = ""
    has_logo: bool = False


def _row() -> ClinicProfile | None:
    return db.session.scalar(select(ClinicProfile))


def contact() -> Contact:
    row = _row()
    return Contact(row.address, row.phone, bool(row.logo_key)) if row else Contact()


def logo_type(data: bytes) -> tuple[str, str] | None:
    """(mime type, suffix) of a PNG or JPEG by its content; None for anything else."""
    for signature, mime, suffix in LOGO_SIGNATURES:
        if data.startswith(signature):
            return mime, suffix
    return None


def logo() -> tuple[bytes, str] | None:
    """The clinic's logo and its type, if one was uploaded."""
    row = _row()
    if row is None or not row.logo_key or not storage.belongs_to(row.logo_key, require_tenant_id()):
        return None
    store = storage.backend()
    if not store.exists(row.logo_key):
        return None
    return store.read(row.logo_key), row.logo_mime


def update_profile(*, timezone: str, address: str = "", phone: str = "", logo: bytes | None = None,
                   remove_logo: bool = False) -> None:
    """Save the profile (the caller commits). Moving the clinic's clock to another zone: every date the
    clinic sees from then on is taken in the new zone. A logo must be a PNG or JPEG of at most 1 MB."""
    errors = {}
    if not clock.is_zone(timezone or ""):
        errors["timezone"] = _("Choose a time zone from the list.")
    address, phone = (address or "").strip(), (phone or "").strip()
    if len(address) > 200:
        errors["address"] = _("At most %(n)d characters.", n=200)
    if len(phone) > 40 or (phone and not all(c.isdigit() or c in "+-() " for c in phone)):
        errors["phone"] = _("Enter a phone number: digits, spaces, + - and brackets.")
    kind = None
    if logo:
        kind = logo_type(logo)
        if kind is None:
            errors["logo"] = _("The logo must be a PNG or JPEG image.")
        elif len(logo) > LOGO_MAX_BYTES:
            errors["logo"] = _("The logo may be at most 1 MB.")
    if errors:
        raise ProfileError(errors)
    changes: dict = {}
    before = clock.zone_name()
    if timezone != before:
        clock.set_zone(timezone)
        changes["timezone"] = [before, timezone]
    row = _row()
    if row is None:
        row = ClinicProfile(address="", phone="", logo_key="", logo_mime="")
        db.session.add(row)
    for name, value in (("address", address), ("phone", phone)):
        if getattr(row, name) != value:
            changes[name] = [getattr(row, name), value]
            setattr(row, name, value)
    if logo and kind:
        key = storage.new_key(require_tenant_id(), "clinic", kind[1])
        storage.backend().save(key, logo)
        row.logo_key, row.logo_mime = key, kind[0]
        changes["logo"] = "uploaded"
    elif remove_logo and row.logo_key:
        row.logo_key, row.logo_mime = "", ""
        changes["logo"] = "removed"
    if changes:
        audit.record("clinic_profile_changed", **changes)


def sign_in_settings() -> dict:
    row = sessions.policy()
    return {"staff_idle_minutes": row.staff_idle_minutes, "portal_idle_minutes": row.portal_idle_minutes,
            "absolute_hours": row.absolute_hours, "two_factor_roles": list(row.two_factor_roles or [])}


def update_sign_in(*, staff_idle_minutes: int | None, portal_idle_minutes: int | None, absolute_hours: int | None,
                   two_factor_roles: list[str]) -> None:
    """Store the sign-in settings (the caller commits). They apply to every
    session from its next request on; a role newly requiring two-factor
    sign-in sets it up at its next sign-in."""
    values = {"staff_idle_minutes": staff_idle_minutes, "portal_idle_minutes": portal_idle_minutes,
              "absolute_hours": absolute_hours}
    errors = {}
    for name, value in values.items():
        low, high = sessions.LIMITS[name]
        if value is None or not low <= value <= high:
            errors[name] = _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    unknown = [r for r in two_factor_roles if r not in ROLES]
    if unknown:
        errors["two_factor_roles"] = _("Unknown role.")
    if errors:
        raise ProfileError(errors)
    changes = sessions.set_policy(staff_idle_minutes=values["staff_idle_minutes"] or 0,
                                  portal_idle_minutes=values["portal_idle_minutes"] or 0,
                                  absolute_hours=values["absolute_hours"] or 0, two_factor_roles=two_factor_roles)
    if changes:
        audit.record("session_policy_changed", **changes)
