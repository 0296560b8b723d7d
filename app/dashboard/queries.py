"""The clinic dashboard's figures: a few set-based aggregate statements over a
range of clinic days, each filtered by the clinic (row-level security is the
backstop; the explicit ``tenant_id`` lets the composite indexes serve).

Dates are the clinic's (app.core.clock). Moments are counted per week by
joining them to the range's weeks, each given as its first moment and the
moment after it in UTC (from the clinic clock, exact on the days a clock
changes, on PostgreSQL and SQLite alike): each week is a range of an index
that leads with tenant_id and the moment.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy import Date, Subquery, and_, case, exists, func, literal, literal_column, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.booking import services as booking
from app.core import clock
from app.dashboard.models import ABNORMAL_FLAGS
from app.followups import services as followups_services
from app.notifications import services as notifications
from app.patients import services as patients_services
from app.records import services as records
from app.tagging import services as tagging
from tenants.context import require_tenant_id
from tenants.db import db

DEFAULT_WEEKS = 12
LONGEST_DAYS = 731  # a range is cut to two years: the page stays quick and the charts readable
NOT_BOOKED = ("cancelled", "refunded")
ATTENDED = ("checked_in", "completed")
# the tables counted, through their capabilities' services
Order, Patient, Observation, Notification = booking.Order, patients_services.Patient, records.Observation, \
    notifications.Notification
FollowupTask, FollowupRecord = followups_services.FollowupTask, followups_services.FollowupRecord
PatientTag, ManualTag, Tag = tagging.PatientTag, tagging.ManualTag, tagging.Tag


@dataclass(frozen=True)
class Range:
    since: date
    until: date

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    @property
    def weeks(self) -> list[date]:
        """The Mondays of the weeks the range touches."""
        first = week_of(self.since)
        return [first + timedelta(weeks=n) for n in range((week_of(self.until) - first).days // 7 + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) of the range in UTC."""
        return clock.day_bounds(self.since)[0], clock.day_bounds(self.until)[1]


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def default_range(today: date | None = None) -> Range:
    """The last twelve weeks: from the Monday eleven weeks before this week's to today."""
    today = today or clock.today()
    return Range(week_of(today) - timedelta(weeks=DEFAULT_WEEKS - 1), today)


def parse_range(raw_from: str | None, raw_to: str | None, today: date | None = None) -> Range:
    """The range a request asks for (ISO dates ``from`` and ``to``); a missing or unreadable end falls back to
    the default's, ends given the wrong way round are swapped, and a range is cut to LONGEST_DAYS."""
    fallback = default_range(today)

    def day(raw, default):
        try:
            return date.fromisoformat((raw or "").strip()[:10])
        except ValueError:
            return default

    since, until = day(raw_from, fallback.since), day(raw_to, fallback.until)
    if since > until:
        since, until = until, since
    if (until - since).days >= LONGEST_DAYS:
        since = until - timedelta(days=LONGEST_DAYS - 1)
    return Range(since, until)


def _weeks(span: Range, moment_type) -> Subquery:
    """The range's weeks as rows to join moments to: ``week`` (its Monday), ``starts`` and ``ends`` (the first
    moment of its first day in the range and the moment after its last, in UTC, exact on the days a clock
    changes). Each week is then a range of a (tenant_id, moment) index; no moment is turned into a clinic
    day one by one."""
    rows = [select(literal(monday, Date()).label("week"),
                   literal(clock.day_bounds(max(monday, span.since))[0], moment_type).label("starts"),
                   literal(clock.day_bounds(min(monday + timedelta(days=6), span.until))[1], moment_type)
                   .label("ends"))
            for monday in span.weeks]
    return union_all(*rows).subquery("weeks")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ------------------------------------------------------------------ figures

@dataclass
class Patients:
    active: int
    new_in_range: int
    new_by_week: dict[date, int]


@dataclass
class DayBookings:
    day: date
    booked: int
    capacity: int | None  # None: no slots that day (closed, or no template)


@dataclass
class Bookings:
    days: list[DayBookings]
    due: int        # bookings of the range's days before today, not cancelled
    no_shows: int
    attended: int

    @property
    def no_show_rate(self) -> float | None:
        return _share(self.no_shows, self.due)


@dataclass
class StaffFollowups:
    staff_id: int | None
    due: int = 0        # tasks due in the range up to today, not cancelled
    done: int = 0
    contacts: int = 0   # contacts recorded in the range
    reached: int = 0

    @property
    def completion(self) -> float | None:
        return _share(self.done, self.due)

    @property
    def success(self) -> float | None:
        return _share(self.reached, self.contacts)


@dataclass
class IndicatorRate:
    indicator_id: int
    results: int
    abnormal: int

    @property
    def rate(self) -> float | None:
        return _share(self.abnormal, self.results)


@dataclass
class TagCount:
    tag_id: int
    patients: int
    share: float | None


@dataclass
class Messages:
    by_channel: dict[str, tuple[int, int]]        # channel -> (sent, failed)
    by_week: dict[date, tuple[int, int]]          # Monday -> (sent, failed)


@dataclass
class PackageSales:
    package_id: int
    name: str
    orders: int
    revenue_fen: int


class Dashboard:
    """The figures of a range, each read from the database the first time it is asked for: a figure loaded
    on its own, or exported on its own, runs only its own statements."""

    def __init__(self, span: Range, today: date):
        self.range, self.today = span, today

    @cached_property
    def active(self) -> int:
        return active_patients()

    @cached_property
    def patients(self) -> Patients:
        return patients(self.range, self.active)

    @cached_property
    def bookings(self) -> Bookings:
        return bookings(self.range, self.today)

    @cached_property
    def followups(self) -> list[StaffFollowups]:
        return followups(self.range, self.today)

    @cached_property
    def abnormal(self) -> list[IndicatorRate]:
        return abnormal(self.range)

    @cached_property
    def tags(self) -> list[TagCount]:
        return tags(self.active)

    @cached_property
    def messages(self) -> Messages:
        return messages(self.range)

    @cached_property
    def sales(self) -> list[PackageSales]:
        return sales(self.range)


def active_patients() -> int:
    """The open cards (archived ones left out)."""
    return db.session.execute(select(func.count()).select_from(Patient).where(
        Patient.tenant_id == require_tenant_id(), Patient.archived_at.is_(None))).scalar_one()


def patients(span: Range, active: int | None = None) -> Patients:
    tenant_id = require_tenant_id()
    active = active_patients() if active is None else active
    weeks = _weeks(span, Patient.created_at.type)
    rows = db.session.execute(
        select(weeks.c.week, func.count()).select_from(weeks)
        .join(Patient, and_(Patient.tenant_id == tenant_id, Patient.created_at >= weeks.c.starts,
                            Patient.created_at < weeks.c.ends))
        .group_by(weeks.c.week))
    by_week = dict.fromkeys(span.weeks, 0)
    for week, count in rows:
        by_week[_as_date(week)] = count
    return Patients(active, sum(by_week.values()), by_week)


def _capacity(span: Range) -> dict[date, int | None]:
    """Each day's places: its slots' capacities, within the clinic's daily limit."""
    daily = booking.settings().daily_capacity
    result: dict[date, int | None] = {}
    for day, slots in booking.availability.slots_for(span.since, span.until).items():
        total = sum(s.capacity for s in slots)
        result[day] = (min(total, daily) if daily is not None else total) if slots else None
    return result


def bookings(span: Range, today: date) -> Bookings:
    tenant_id = require_tenant_id()
    booked = func.count().filter(Order.status.not_in(NOT_BOOKED))
    rows = db.session.execute(
        select(Order.day, booked, func.count().filter(Order.status == "no_show"),
               func.count().filter(Order.status.in_(ATTENDED)))
        .where(Order.tenant_id == tenant_id, Order.day >= span.since, Order.day <= span.until)
        .group_by(Order.day))
    per_day: dict[date, int] = {}
    due = no_shows = attended = 0
    for day, count, missed, came in rows:
        day = _as_date(day)
        per_day[day] = count
        if day < today:
            due, no_shows, attended = due + count, no_shows + missed, attended + came
    capacity = _capacity(span)
    return Bookings([DayBookings(d, per_day.get(d, 0), capacity.get(d)) for d in span.days], due, no_shows,
                    attended)


def followups(span: Range, today: date) -> list[StaffFollowups]:
    """Per person: tasks assigned and due in the range (up to today) and done; contacts recorded and reached."""
    tenant_id = require_tenant_id()
    start, end = span.bounds()
    people: dict[int | None, StaffFollowups] = {}
    last_due = min(span.until, today)
    if last_due >= span.since:
        tasks = db.session.execute(
            select(FollowupTask.assignee_id, func.count().filter(FollowupTask.status != "cancelled"),
                   func.count().filter(FollowupTask.status == "done"))
            .where(FollowupTask.tenant_id == tenant_id, FollowupTask.due_date >= span.since,
                   FollowupTask.due_date <= last_due)
            .group_by(FollowupTask.assignee_id))
        for staff_id, due, done in tasks:
            people[staff_id] = StaffFollowups(staff_id, due=due, done=done)
    contacts = db.session.execute(
        select(FollowupRecord.staff_id, func.count(), func.count().filter(FollowupRecord.result == "reached"))
        .where(FollowupRecord.tenant_id == tenant_id, FollowupRecord.created_at >= start,
               FollowupRecord.created_at < end)
        .group_by(FollowupRecord.staff_id))
    for staff_id, count, reached in contacts:
        row = people.setdefault(staff_id, StaffFollowups(staff_id))
        row.contacts, row.reached = count, reached
    return sorted((p for p in people.values() if p.due or p.contacts), key=lambda p: (-p.due, -p.contacts))


def abnormal(span: Range, limit: int = 10) -> list[IndicatorRate]:
    """The ``limit`` indicators with the most abnormal current results in the range, with their share.
    The abnormal results alone choose the indicators; only the chosen ones' results are then counted."""
    tenant_id = require_tenant_id()
    start, end = span.bounds()
    # the flags written into the statement, not bound: a prepared plan may then still use the partial index
    flags: list[ColumnElement[str]] = [literal_column(f"'{flag}'") for flag in ABNORMAL_FLAGS]
    flagged = func.count().label("abnormal")
    top = (select(Observation.indicator_id, flagged)
           .where(Observation.tenant_id == tenant_id, Observation.superseded_by.is_(None),
                  Observation.flag.in_(flags), Observation.observed_at >= start, Observation.observed_at < end)
           .group_by(Observation.indicator_id)
           .order_by(flagged.desc(), Observation.indicator_id)
           .limit(limit)
           .cte("top"))
    result = aliased(Observation)
    results = (select(func.count()).select_from(result)
               .where(result.tenant_id == tenant_id, result.indicator_id == top.c.indicator_id,
                      result.superseded_by.is_(None), result.observed_at >= start, result.observed_at < end)
               .scalar_subquery())
    rows = db.session.execute(select(top.c.indicator_id, results, top.c.abnormal)
                              .order_by(top.c.abnormal.desc(), top.c.indicator_id))
    return [IndicatorRate(indicator_id, count, flagged_count) for indicator_id, count, flagged_count in rows]


def tags(active: int) -> list[TagCount]:
    """How many patients carry each tag now (by a rule or by hand), and their share of the active cards.
    A patient counts once a tag: the distinct patients its rules gave it (each tag a range of the
    (tenant_id, tag_id, patient_id) index, read in order from the index alone), plus those given it by hand
    and not by a rule."""
    tenant_id = require_tenant_id()
    given = aliased(PatientTag)
    patients_of_tag = (select(given.patient_id).where(given.tenant_id == tenant_id, given.tag_id == Tag.id)
                       .distinct().correlate(Tag).subquery())
    by_rule = select(func.count()).select_from(patients_of_tag).scalar_subquery()
    counts = dict(db.session.execute(select(Tag.id, by_rule).where(Tag.tenant_id == tenant_id)).tuples().all())
    also_by_rule = exists().where(PatientTag.tenant_id == ManualTag.tenant_id, PatientTag.tag_id == ManualTag.tag_id,
                                  PatientTag.patient_id == ManualTag.patient_id)
    for tag_id, by_hand, both in db.session.execute(
            select(ManualTag.tag_id, func.count(), func.sum(case((also_by_rule, 1), else_=0)))
            .where(ManualTag.tenant_id == tenant_id).group_by(ManualTag.tag_id)):
        counts[tag_id] = counts.get(tag_id, 0) + by_hand - int(both or 0)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [TagCount(tag_id, count, _share(count, active)) for tag_id, count in ranked if count]


def messages(span: Range) -> Messages:
    tenant_id = require_tenant_id()
    weeks = _weeks(span, Notification.created_at.type)
    rows = db.session.execute(
        select(weeks.c.week, Notification.channel, func.count().filter(Notification.status == "sent"),
               func.count().filter(Notification.status == "failed"))
        .select_from(weeks)
        .join(Notification, and_(Notification.tenant_id == tenant_id, Notification.created_at >= weeks.c.starts,
                                 Notification.created_at < weeks.c.ends))
        .group_by(weeks.c.week, Notification.channel))
    by_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_week: dict[date, list[int]] = {week: [0, 0] for week in span.weeks}
    for week, channel, sent, failed in rows:
        for bucket in (by_channel[channel], by_week[_as_date(week)]):
            bucket[0] += sent
            bucket[1] += failed
    return Messages({c: (s, f) for c, (s, f) in sorted(by_channel.items())},
                    {w: (s, f) for w, (s, f) in by_week.items()})


def sales(span: Range) -> list[PackageSales]:
    """Orders paid in the range by package (refunded ones left out), most sold first."""
    tenant_id = require_tenant_id()
    start, end = span.bounds()
    rows = db.session.execute(
        select(Order.package_id, func.max(Order.package_name), func.count(), func.sum(Order.price_fen))
        .where(Order.tenant_id == tenant_id, Order.paid_at >= start, Order.paid_at < end,
               Order.status != "refunded")
        .group_by(Order.package_id)
        .order_by(func.count().desc(), Order.package_id))
    return [PackageSales(pid, name, count, int(revenue or 0)) for pid, name, count, revenue in rows]


def dashboard(span: Range) -> Dashboard:
    return Dashboard(span, clock.today())
