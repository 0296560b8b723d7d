"""Reading and changing the clinic's profile (the owner's page)."""
from typing import Any

from flask_babel import gettext as _

from app.core import audit, clock
from app.core.errors import FieldErrors
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant
from tenants.services import is_zone


class ProfileError(FieldErrors):
    """A profile that cannot be saved, by form field."""


def current() -> Tenant:
    return db.session.get_one(Tenant, require_tenant_id())


def update_profile(*, name: str, timezone: str) -> Tenant:
    """Rename the clinic or move its clock to another zone (the caller commits).
    Every date the clinic sees from then on is taken in the new zone."""
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = _("Please enter the clinic's name.")
    elif len(name) > 120:
        errors["name"] = _("At most 120 characters.")
    if not is_zone(timezone or ""):
        errors["timezone"] = _("Choose a time zone from the list.")
    if errors:
        raise ProfileError(errors)
    tenant = current()
    changed: dict[str, Any] = {k: [getattr(tenant, k), v] for k, v in (("name", name), ("timezone", timezone))
                               if getattr(tenant, k) != v}
    tenant.name, tenant.timezone = name, timezone
    clock.remember_zone(tenant.id, timezone)
    if changed:
        audit.record("clinic_profile_changed", **changed)
    return tenant
