"""The clinic's profile (the owner's pages): the name it shows, its address, phone, logo and the
zone of its clock, and its sign-in settings (session timeouts, roles that must
use two-factor sign-in)."""
import struct
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.clinic.models import ClinicProfile
from app.core import audit, clock, sessions, storage
from app.core.access import ROLES
from app.core.errors import FieldErrors
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant

LOGO_MAX_BYTES = 1024 * 1024
# A logo's type is what its first bytes say, never what its name or the browser claims.
LOGO_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png", ".png"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"))
NAME_MAX = 120
# the logo in the top bar: this tall, at most this wide (CSS pixels)
BRAND_HEIGHT, BRAND_MAX_WIDTH = 32, 160


class ProfileError(FieldErrors):
    """A profile that cannot be saved, by form field."""


def timezone() -> str:
    return clock.zone_name()


@dataclass
class Contact:
    name: str = ""
    address: str = ""
    phone: str = ""
    has_logo: bool = False


def _row() -> ClinicProfile | None:
    return db.session.scalar(select(ClinicProfile))


def registered_name() -> str:
    """The name the clinic was registered with on the platform (the application may only read it)."""
    return db.session.get_one(Tenant, require_tenant_id()).name


def name() -> str:
    """The name the clinic shows to staff and patients, on pages and in its messages."""
    row = _row()
    return (row.display_name if row else "") or registered_name()


def contact() -> Contact:
    row = _row()
    if row is None:
        return Contact(registered_name())
    return Contact(row.display_name or registered_name(), row.address, row.phone, bool(row.logo_key))


@dataclass(frozen=True)
class Brand:
    """The clinic as the top bar shows it: its name and, if uploaded, its logo in a box of known size."""
    name: str
    has_logo: bool = False
    width: int = BRAND_HEIGHT
    height: int = BRAND_HEIGHT


def brand() -> Brand:
    row = _row()
    if row is None:
        return Brand(registered_name())
    name = row.display_name or registered_name()
    if not row.logo_key:
        return Brand(name)
    if not (row.logo_width and row.logo_height):  # uploaded before sizes were kept: a square box
        return Brand(name, True)
    width = min(BRAND_MAX_WIDTH, round(BRAND_HEIGHT * row.logo_width / row.logo_height))
    height = min(BRAND_HEIGHT, round(BRAND_MAX_WIDTH * row.logo_height / row.logo_width))
    return Brand(name, True, max(width, 1), max(height, 1))


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels of a PNG (its IHDR) or a baseline or progressive JPEG (its SOF marker)."""
    if data.startswith(LOGO_SIGNATURES[0][0]) and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    at = 2
    while data.startswith(b"\xff\xd8") and at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    return None


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


def update_profile(*, timezone: str, name: str | None = None, address: str = "", phone: str = "",
                   logo: bytes | None = None, remove_logo: bool = False) -> None:
    """Save the profile (the caller commits). Moving the clinic's clock to another zone: every date the
    clinic sees from then on is taken in the new zone. A logo must be a PNG or JPEG of at most 1 MB.
    ``name`` None leaves the shown name as it is."""
    errors = {}
    if name is not None:
        name = " ".join(name.split())
        if not name:
            errors["name"] = _("Enter the clinic's name.")
        elif len(name) > NAME_MAX:
            errors["name"] = _("At most %(n)d characters.", n=NAME_MAX)
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
        elif image_size(logo) is None:
            errors["logo"] = _("The logo must be a PNG or JPEG image.")
    if errors:
        raise ProfileError(errors)
    changes: dict = {}
    before = clock.zone_name()
    if timezone != before:
        clock.set_zone(timezone)
        changes["timezone"] = [before, timezone]
    row = _row()
    if row is None:
        row = ClinicProfile(display_name="", address="", phone="", logo_key="", logo_mime="", logo_width=0,
                            logo_height=0)
        db.session.add(row)
    shown = row.display_name or registered_name()
    if name is not None and name != shown:
        changes["name"] = [shown, name]
        row.display_name = name
    for field, value in (("address", address), ("phone", phone)):
        if getattr(row, field) != value:
            changes[field] = [getattr(row, field), value]
            setattr(row, field, value)
    if logo and kind:
        key = storage.new_key(require_tenant_id(), "clinic", kind[1])
        storage.backend().save(key, logo)
        row.logo_key, row.logo_mime = key, kind[0]
        row.logo_width, row.logo_height = image_size(logo) or (0, 0)
        changes["logo"] = "uploaded"
    elif remove_logo and row.logo_key:
        row.logo_key, row.logo_mime, row.logo_width, row.logo_height = "", "", 0, 0
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
