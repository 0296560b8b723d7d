"""The clinic's profile (the owner's pages): the zone of its clock, and its
sign-in settings (session timeouts, roles that must use two-factor sign-in)."""
from flask_babel import gettext as _

from app.core import audit, clock, sessions
from app.core.access import ROLES
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
