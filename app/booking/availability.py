"""Which dates and slots a package can still be booked on, and why not.

Everything here reads; the places are taken in ``orders``. A day's slots are
the weekly template for its weekday, with that date's overrides replacing
(or adding) slots by start time; closed days have none.
"""
import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.booking.models import (
    UNLIMITED,
    BookingSettings,
    ClosedDay,
    DayCounter,
    ExamPackage,
    PackageDayCounter,
    SlotCounter,
    SlotOverride,
    SlotTemplate,
)
from app.core import clock
from tenants.context import require_tenant_id
from tenants.db import db


class BookingRefused(ValueError):
    """A booking, cancellation or change the rules do not allow; ``reason``
    is a stable code, ``message`` what the patient reads."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


class NeedsConfirmation(BookingRefused):
    """Allowed, but only once the person has confirmed what ``message`` warns
    of (the caller asks and repeats the call with ``confirmed=True``)."""


@dataclass(frozen=True)
class Slot:
    start: time
    end: time
    capacity: int


@dataclass
class SlotState:
    start: time
    end: time
    capacity: int
    free: int

    @property
    def key(self) -> str:
        return self.start.strftime("%H:%M")


@dataclass
class DayState:
    day: date
    status: str  # open | full | closed | unavailable (past, beyond the horizon, after the cut-off)
    free: int = 0
    slots: list[SlotState] = field(default_factory=list)


# ---------------------------------------------------------------- settings

_CACHE_KEY = "booking_settings"


def settings() -> BookingSettings:
    """The clinic's rules, read once per session (``forget_settings`` after a change)."""
    cached = db.session.info.get(_CACHE_KEY)
    if cached is not None and cached[0] == require_tenant_id():
        return cached[1]
    rules = _load_settings()
    db.session.info[_CACHE_KEY] = (require_tenant_id(), rules)
    return rules


def forget_settings() -> None:
    db.session.info.pop(_CACHE_KEY, None)


def _load_settings() -> BookingSettings:
    row = db.session.scalar(select(BookingSettings))
    return row or BookingSettings(horizon_days=60, cutoff_days=1, cutoff_time=time(18, 0), cancel_cutoff_days=1,
                                  cancel_cutoff_time=time(18, 0), daily_capacity=None)


def local_now(now: datetime | None = None) -> datetime:
    return clock.local(now) if now else clock.now()


def deadline(day: date, days_before: int, at: time) -> datetime:
    """The clinic's moment ``days_before`` days before ``day`` at ``at``."""
    return clock.at(day - timedelta(days=days_before), at)


def booking_deadline(day: date, rules: BookingSettings) -> datetime:
    return deadline(day, rules.cutoff_days, rules.cutoff_time)


def change_deadline(day: date, rules: BookingSettings) -> datetime:
    return deadline(day, rules.cancel_cutoff_days, rules.cancel_cutoff_time)


def window(rules: BookingSettings, now: datetime | None = None) -> tuple[date, date]:
    """The first and last dates that may be open for booking."""
    today = local_now(now).date()
    return today, today + timedelta(days=rules.horizon_days)


# ------------------------------------------------------------------- slots

def templates() -> list[SlotTemplate]:
    return list(db.session.scalars(select(SlotTemplate).order_by(SlotTemplate.weekday, SlotTemplate.start)))


def slots_for(first: date, last: date) -> dict[date, list[Slot]]:
    """Each date's open slots (capacity > 0), closed days empty."""
    weekly: dict[int, dict[time, Slot]] = {}
    for t in templates():
        weekly.setdefault(t.weekday, {})[t.start] = Slot(t.start, t.end, t.capacity)
    overrides: dict[date, list[SlotOverride]] = {}
    for o in db.session.scalars(select(SlotOverride).where(SlotOverride.day.between(first, last))):
        overrides.setdefault(o.day, []).append(o)
    closed = set(db.session.scalars(select(ClosedDay.day).where(ClosedDay.day.between(first, last))))
    result: dict[date, list[Slot]] = {}
    day = first
    while day <= last:
        if day in closed:
            result[day] = []
        else:
            slots = dict(weekly.get(day.weekday(), {}))
            for o in overrides.get(day, ()):
                slots[o.start] = Slot(o.start, o.end, o.capacity)
            result[day] = [s for _start, s in sorted(slots.items()) if s.capacity > 0]
        day += timedelta(days=1)
    return result


def slot_on(day: date, start: time) -> Slot | None:
    return next((s for s in slots_for(day, day)[day] if s.start == start), None)


def is_closed(day: date) -> bool:
    return db.session.scalar(select(ClosedDay.id).where(ClosedDay.day == day)) is not None


# ------------------------------------------------------------ availability

def _booked(first: date, last: date, package, rules: BookingSettings):
    """Places taken per slot, per day (if the clinic limits days) and per
    package-day (if the package has a daily limit)."""
    slot_booked = {(day, start): booked for day, start, booked in db.session.execute(
        select(SlotCounter.day, SlotCounter.start, SlotCounter.booked).where(SlotCounter.day.between(first, last)))}
    day_booked, package_booked = {}, {}
    if rules.daily_capacity is not None:
        day_booked = {c.day: c.booked for c in db.session.scalars(
            select(DayCounter).where(DayCounter.day.between(first, last)))}
    package_id = package.id if package is not None and package.daily_limit is not None else None
    if package_id is not None:
        package_booked = {c.day: c.booked for c in db.session.scalars(
            select(PackageDayCounter).where(PackageDayCounter.package_id == package_id,
                                            PackageDayCounter.day.between(first, last)))}
    return slot_booked, day_booked, package_booked


def days(package: ExamPackage | None, first: date, last: date, *, now: datetime | None = None) -> list[DayState]:
    """The state of every date from ``first`` to ``last`` for one package."""
    rules = settings()
    today, horizon = window(rules, now)
    moment = local_now(now)
    open_first, open_last = max(first, today), min(last, horizon)
    slots = slots_for(open_first, open_last) if open_first <= open_last else {}
    slot_booked, day_booked, package_booked = _booked(open_first, open_last, package, rules)
    states = []
    day = first
    while day <= last:
        if day not in slots or moment >= booking_deadline(day, rules):
            states.append(DayState(day, "unavailable"))
        elif not slots[day]:
            states.append(DayState(day, "closed"))
        else:
            day_free = (rules.daily_capacity or UNLIMITED) - day_booked.get(day, 0)
            if package is not None and package.daily_limit is not None:
                day_free = min(day_free, package.daily_limit - package_booked.get(day, 0))
            day_free = max(0, day_free)
            slot_states = [SlotState(s.start, s.end, s.capacity,
                                     max(0, min(day_free, s.capacity - slot_booked.get((day, s.start), 0))))
                           for s in slots[day]]
            free = min(day_free, sum(s.free for s in slot_states))
            states.append(DayState(day, "open" if free else "full", free, slot_states))
        day += timedelta(days=1)
    return states


def day_state(package: ExamPackage | None, day: date, *, now: datetime | None = None) -> DayState:
    return days(package, day, day, now=now)[0]


@dataclass
class Month:
    year: int
    month: int
    weeks: list[list[DayState | None]]
    previous: str | None
    next: str | None

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)


def parse_month(raw: str | None, *, now: datetime | None = None) -> tuple[int, int]:
    rules = settings()
    today, horizon = window(rules, now)
    first = today + timedelta(days=rules.cutoff_days + 1)  # the first date that can still be open
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        chosen = date(year, month, 1)
    except ValueError:
        return first.year, first.month
    if chosen < today.replace(day=1) or chosen > horizon:
        return first.year, first.month
    return year, month


def month(package: ExamPackage, year: int, month_no: int, *, now: datetime | None = None) -> Month:
    """A calendar page: weeks Monday to Sunday, None outside the month."""
    today, horizon = window(settings(), now)
    length = calendar.monthrange(year, month_no)[1]
    first, last = date(year, month_no, 1), date(year, month_no, length)
    by_day = {s.day: s for s in days(package, first, last, now=now)}
    weeks = [[by_day.get(d) if d.month == month_no else None for d in week]
             for week in calendar.Calendar().monthdatescalendar(year, month_no)]
    before = first - timedelta(days=1)
    after = last + timedelta(days=1)
    return Month(year, month_no, weeks,
                 f"{before:%Y-%m}" if before >= today.replace(day=1) else None,
                 f"{after:%Y-%m}" if after <= horizon else None)


# ------------------------------------------------------------------ rules

def _sex_refusal(package: ExamPackage, sex: str) -> BookingRefused | None:
    if package.sex and sex != package.sex:
        return BookingRefused("sex", _("This package is for women only.") if package.sex == "F"
                              else _("This package is for men only."))
    return None


def check_eligible(package: ExamPackage, sex: str, birth_date: date, day: date) -> None:
    """Refuse a person the package is not for, by sex or by age on the exam day."""
    refusal = _sex_refusal(package, sex)
    if refusal is not None:
        raise refusal
    age = clock.age(birth_date, day)
    if package.age_min is not None and age < package.age_min:
        raise BookingRefused("age", _("This package is for people aged %(n)d or over; on the exam day you will "
                                      "be %(age)d.", n=package.age_min, age=age))
    if package.age_max is not None and age > package.age_max:
        raise BookingRefused("age", _("This package is for people aged up to %(n)d; on the exam day you will "
                                      "be %(age)d.", n=package.age_max, age=age))


def eligibility_refusal(package: ExamPackage, sex: str, birth_date: date) -> BookingRefused | None:
    """Why this person cannot book ``package`` at all, by sex or by age on the
    clinic's today (before a date is chosen), or None. Booking checks the age
    on the exam day again (``check_eligible``)."""
    refusal = _sex_refusal(package, sex)
    if refusal is not None:
        return refusal
    age = clock.age(birth_date, clock.today())
    if package.age_min is not None and age < package.age_min:
        return BookingRefused("age", _("This package is for people aged %(n)d or over; you are %(age)d.",
                                       n=package.age_min, age=age))
    if package.age_max is not None and age > package.age_max:
        return BookingRefused("age", _("This package is for people aged up to %(n)d; you are %(age)d.",
                                       n=package.age_max, age=age))
    return None


def check_date(day: date, *, now: datetime | None = None) -> list[Slot]:
    """Refuse a date in the past, beyond the horizon, closed or after the
    cut-off; return its open slots."""
    rules = settings()
    today, horizon = window(rules, now)
    if day < today:
        raise BookingRefused("past", _("This date has passed."))
    if day > horizon:
        raise BookingRefused("horizon", _("Bookings open %(n)d days ahead; please choose a date up to %(date)s.",
                                          n=rules.horizon_days, date=horizon.isoformat()))
    slots = slots_for(day, day)[day]
    if not slots:
        raise BookingRefused("closed", _("The clinic is closed for exams on %(date)s.", date=day.isoformat()))
    limit = booking_deadline(day, rules)
    if local_now(now) >= limit:
        raise BookingRefused("cutoff", _("Bookings for %(date)s closed at %(time)s.",
                                         date=day.isoformat(), time=limit.strftime("%Y-%m-%d %H:%M")))
    return slots


def check_change_allowed(day: date, *, now: datetime | None = None) -> None:
    rules = settings()
    limit = change_deadline(day, rules)
    if local_now(now) >= limit:
        raise BookingRefused("change_cutoff", _("Changes and cancellations for %(date)s closed at %(time)s; "
                                                "please call the clinic.", date=day.isoformat(),
                                                time=limit.strftime("%Y-%m-%d %H:%M")))
