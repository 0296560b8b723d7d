"""The clinic's profile (the owner's page): today, the zone of its clock."""
from flask_babel import gettext as _

from app.core import audit, clock
from app.core.errors import FieldErrors


class ProfileError(FieldErrors):
    """A profile that cannot be saved, by form field."""


def timezone() -> str:
    return clock.zone_name()


def update_profile(*, timezone: str) -> None:
    """Move the clinic's clock to another zone (the caller commits). Every
    date the clinic sees from then on is taken in the new zone."""
    if not clock.is_zone(timezone or ""):
        raise ProfileError({"timezone": _("Choose a time zone from the list.")})
    before = clock.zone_name()
    if timezone != before:
        clock.set_zone(timezone)
        audit.record("clinic_profile_changed", timezone=[before, timezone])
