"""The clinic clock: the one place that knows what time and what day it is
in a clinic.

Moments are stored and compared in UTC (``utcnow``). A clinic's day (its
"today", the date of a reading, a booking's cut-off, quiet hours, "within
N days") is taken in the clinic's time zone, a clinic setting
(``ClinicClock``, Asia/Shanghai unless the owner changes it on the clinic
profile page). Nothing else computes a clinic's day. Tests pin the clock
with time-machine, which every reading here follows.
"""
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import has_app_context
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from tenants.context import current_tenant_id, require_tenant_id, tenant_context
from tenants.db import Model, UTCDateTime, db
from tenants.models import utcnow
from tenants.scoping import TenantOwned
from tenants.services import TenantError, on_tenant_created

__all__ = ["DEFAULT_TIMEZONE", "utcnow", "zone_name", "zone", "now", "today", "local", "local_date", "at",
           "day_bounds", "age", "is_zone", "zone_choices", "set_zone"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
_SESSION_KEY = "careloop_clinic_zones"  # session.info: {tenant id: zone name}, read once per session


class ClinicClock(TenantOwned, Model):
    """One row per clinic: the zone of its clock (no row: the default)."""

    __tablename__ = "clinic_clocks"

    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def is_zone(name: str) -> bool:
    if not name or len(name) > 64:  # IANA names are short; a long one would reach the file system as a path
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@cache
def zone_choices() -> tuple[str, ...]:
    """IANA zone names people pick from, Asia/Shanghai first."""
    names = sorted(n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/")))
    return (DEFAULT_TIMEZONE, *[n for n in names if n != DEFAULT_TIMEZONE])


def set_zone(name: str) -> None:
    """Move the current clinic's clock to another zone (the caller commits)."""
    if not is_zone(name):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)")
    tenant_id = require_tenant_id()
    row = db.session.scalar(select(ClinicClock))
    if row is None:
        row = ClinicClock(tenant_id=tenant_id)
        db.session.add(row)
    row.timezone = name
    db.session.info.setdefault(_SESSION_KEY, {})[tenant_id] = name


def zone_name(tenant_id: int | None = None) -> str:
    """The clinic's IANA time zone (the current clinic unless one is named)."""
    current = current_tenant_id()
    tenant_id = tenant_id if tenant_id is not None else current
    if tenant_id is None or not has_app_context():
        return DEFAULT_TIMEZONE
    known = db.session.info.setdefault(_SESSION_KEY, {})
    if tenant_id not in known:
        if tenant_id == current:
            known[tenant_id] = db.session.scalar(select(ClinicClock.timezone)) or DEFAULT_TIMEZONE
        else:  # another clinic's zone: read as that clinic (row-level security)
            with tenant_context(tenant_id):
                known[tenant_id] = db.session.scalar(select(ClinicClock.timezone)) or DEFAULT_TIMEZONE
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


@on_tenant_created
def _start_the_clock(tenant, *, timezone: str = DEFAULT_TIMEZONE, **_) -> None:
    """A new clinic's clock, in the zone given to ``tenants create --timezone``."""
    if not is_zone(timezone):
        raise TenantError(f"unknown time zone {timezone!r} (an IANA name such as Asia/Shanghai)")
    set_zone(timezone)


def within_days(column, since: date | None, until: date | None) -> list:
    """Conditions keeping ``column`` (a moment) within the clinic days ``since`` to ``until``, both included;
    an open end adds none."""
    conditions = []
    if since:
        conditions.append(column >= day_bounds(since)[0])
    if until:
        conditions.append(column < day_bounds(until)[1])
    return conditions
