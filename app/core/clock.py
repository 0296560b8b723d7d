"""The clinic clock: the one place that knows what time and what day it is
in a clinic.

Moments are stored and compared in UTC (``utcnow``). A clinic's day (its
"today", the date of a reading, a booking's cut-off, quiet hours, "within
N days") is taken in the clinic's time zone, a setting on the clinic
(``Tenant.timezone``, Asia/Shanghai unless the owner changes it). Nothing
else computes a clinic's day. Tests pin the clock with time-machine, which
every reading here follows.
"""
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask import g, has_app_context, has_request_context
from sqlalchemy import select

from tenants.context import current_tenant_id
from tenants.db import db
from tenants.models import DEFAULT_TIMEZONE, Tenant, utcnow
from tenants.services import is_zone

__all__ = ["DEFAULT_TIMEZONE", "utcnow", "zone_name", "zone", "now", "today", "local", "local_date", "at",
           "day_bounds", "age", "is_zone", "zone_choices", "remember_zone"]

_SESSION_KEY = "careloop_clinic_zones"  # session.info: {tenant id: zone name}, read once per session


@cache
def zone_choices() -> tuple[str, ...]:
    """IANA zone names people pick from, Asia/Shanghai first."""
    names = sorted(n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/")))
    return (DEFAULT_TIMEZONE, *[n for n in names if n != DEFAULT_TIMEZONE])


def remember_zone(tenant_id: int, name: str) -> None:
    """Tell this session a clinic's zone (after the owner changes it)."""
    if has_app_context():
        db.session.info.setdefault(_SESSION_KEY, {})[tenant_id] = name


def zone_name(tenant_id: int | None = None) -> str:
    """The clinic's IANA time zone (the current clinic unless one is named)."""
    tenant_id = tenant_id if tenant_id is not None else current_tenant_id()
    if tenant_id is None or not has_app_context():
        return DEFAULT_TIMEZONE
    if has_request_context():
        tenant = g.get("tenant")
        if tenant is not None and tenant.id == tenant_id:
            return tenant.timezone or DEFAULT_TIMEZONE
    known = db.session.info.setdefault(_SESSION_KEY, {})
    if tenant_id not in known:
        known[tenant_id] = db.session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id)) \
            or DEFAULT_TIMEZONE
    return known[tenant_id]


def zone(tenant_id: int | None = None) -> ZoneInfo:
    return ZoneInfo(zone_name(tenant_id))


def now(tenant_id: int | None = None) -> datetime:
    """The clinic's wall-clock time (aware, in its zone)."""
    return utcnow().astimezone(zone(tenant_id))


def today(tenant_id: int | None = None) -> date:
    return now(tenant_id).date()


def local(moment: datetime, tenant_id: int | None = None) -> datetime:
    """An aware moment in the clinic's zone."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: say which zone it is in")
    return moment.astimezone(zone(tenant_id))


def local_date(moment: datetime, tenant_id: int | None = None) -> date:
    """The clinic's calendar day of a moment."""
    return local(moment, tenant_id).date()


def at(day: date, clock: time, tenant_id: int | None = None) -> datetime:
    """The moment the clinic's clocks show ``clock`` on ``day`` (aware, in UTC).
    A wall time that a spring-forward change skips counts as after the change
    (02:30 on that night is 03:30)."""
    return datetime.combine(day, clock, tzinfo=zone(tenant_id)).astimezone(timezone.utc)


def day_bounds(day: date, tenant_id: int | None = None) -> tuple[datetime, datetime]:
    """The clinic's day as [start, end) in UTC (23 or 25 hours long on the
    days its clocks change)."""
    return at(day, time(0), tenant_id), at(day + timedelta(days=1), time(0), tenant_id)


def age(born: date, on: date | None = None) -> int:
    """Whole years from ``born`` to ``on`` (the clinic's today by default)."""
    on = on or today()
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
