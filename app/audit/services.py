"""Reading the audit trail: the page's filters and pages, its CSV export,
events in words, and what a patient may see of who opened their record.
Events are written with app.core.audit.record."""
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select

from app.audit import labels
from app.auth import services as staff
from app.booking import services as booking
from app.core import audit, clock
from app.core.audit import AuditEvent
from app.followups import services as followups
from app.patients import services as patients
from tenants.db import db

PAGE_SIZE = 100
EXPORT_LIMIT = 100_000
# what a patient sees in the portal: staff who opened, changed, printed or exported their record
SEEN_BY_PATIENT = ("record_opened", "identifiers_viewed", "phone_revealed", "patient_edited", "history_edited",
                   "results_entered", "card_printed", "health_report_printed", "health_report_released",
                   "results_released", "file_downloaded", "recording_played", "followup_recorded",
                   "patient_archived", "patient_restored", "care_plan_started", "care_plan_closed")
DONE_BY_PATIENT = ("portal_report_downloaded",)  # their own, shown beside the staff's


@dataclass
class Filters:
    staff_id: int | None = None
    patient_id: int | None = None
    action: str = ""
    since: date | None = None   # clinic days, inclusive
    until: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def statement(self) -> Select:
        query = select(AuditEvent)
        if self.staff_id:
            query = query.where(AuditEvent.actor_id == self.staff_id)
        if self.patient_id:
            query = query.where(AuditEvent.patient_id == self.patient_id)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        return query.where(*clock.within_days(AuditEvent.at, self.since, self.until))


def parse_filters(args) -> Filters:
    """The page's query string -> Filters; a bad value is named, not a 500."""
    found = Filters()
    for name, attr in (("staff", "staff_id"), ("patient", "patient_id")):
        value = (args.get(name) or "").strip()
        if value:
            if value.isdigit() and len(value) <= 19:
                setattr(found, attr, int(value))
            else:
                found.errors[name] = _("Not a valid choice.")
    action = (args.get("action") or "").strip()
    if action:
        if action in audit.ACTIONS:
            found.action = action
        else:
            found.errors["action"] = _("Not a valid choice.")
    for name in ("since", "until"):
        value = (args.get(name) or "").strip()
        if value:
            try:
                setattr(found, name, date.fromisoformat(value))
            except ValueError:
                found.errors[name] = _("A date like 2026-12-05.")
    if found.since and found.until and found.until < found.since:
        found.errors["until"] = _("The end is before the start.")
    return found


@dataclass
class Page:
    events: list[AuditEvent]
    next_cursor: str  # "" on the last page


def search(filters: Filters, *, cursor: str = "", limit: int = PAGE_SIZE) -> Page:
    """Newest first, a page at a time; ``cursor`` (from the previous page) is
    where the next one starts, so pages stay right while events are added."""
    query = filters.statement().order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    after = _parse_cursor(cursor)
    if after is not None:
        at, event_id = after
        query = query.where(or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < event_id)))
    rows = list(db.session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, f"{rows[-1].at.isoformat()}~{rows[-1].id}" if more and rows else "")


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    moment, _sep, event_id = (cursor or "").partition("~")
    try:
        return datetime.fromisoformat(moment), int(event_id)
    except ValueError:
        return None


@dataclass
class Described:
    event: AuditEvent
    who: str
    what: str
    patient: str
    details: str


def describe(events: list[AuditEvent]) -> list[Described]:
    """Events with names instead of ids and details in words (two queries for any number):
    the staff and patients an event's details point at are looked up with those it was about."""
    details = [e.detail or {} for e in events]
    people = staff.get_many([e.actor_id for e in events]
                            + [d.get(k) for d in details for k in STAFF_KEYS if isinstance(d.get(k), int)])
    cards = patients.get_many({e.patient_id for e in events if e.patient_id}
                              | {d.get(k) for d in details for k in PATIENT_KEYS if isinstance(d.get(k), int)})
    out = []
    for e, detail in zip(events, details, strict=True):
        person = people.get(e.actor_id) if e.actor_id else None
        who = person.name if person else _actor_in_words(e.actor_label)
        card = cards.get(e.patient_id) if e.patient_id else None
        if card is not None:
            patient = f"{card.name} ({card.card_no})"
        else:
            patient = _("a card no longer here") if e.patient_id else ""
        out.append(Described(e, who, str(labels.ACTION.get(e.action, e.action)), patient,
                             _details(detail, people, cards)))
    return out


def _actor_in_words(label: str) -> str:
    if label == audit.PORTAL_ACTOR:
        return _("the patient, in the portal")
    if label.startswith(audit.API_ACTOR):
        return _("API token “%(name)s”", name=label[len(audit.API_ACTOR):])
    return label or _("system")


# details that point at a staff member or a card: shown as a name; other ids (of a task, a
# recording, a session, a report) are the trail's own references and not shown as numbers
STAFF_KEYS = ("staff_id",)
PATIENT_KEYS = ("source_id", "target_id")


def _details(detail: dict, people: dict | None = None, cards: dict | None = None) -> str:
    parts = []
    for key, value in detail.items():
        name = labels.DETAIL.get(key)
        if key in STAFF_KEYS and isinstance(value, int):
            person = (people or {}).get(value)
            value = person.name if person else _("a staff account no longer here")
        elif key in PATIENT_KEYS and isinstance(value, int):
            card = (cards or {}).get(value)
            value = f"{card.name} ({card.card_no})" if card else _("a card no longer here")
        elif _is_reference(key, value):
            continue
        elif isinstance(value, str) and key in _VALUES:
            value = str(_VALUES[key]().get(value, value))
        elif isinstance(value, list):
            value = _(", ").join(str(labels.FIELD.get(v, v)) if isinstance(v, str) else str(v) for v in value)
        elif isinstance(value, str):
            value = str(labels.FIELD.get(value, value))
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        parts.append(_("%(name)s: %(value)s", name=name or key, value=value))
    return _("; ").join(parts)


# what a stored code in a detail is called on screen, by the detail's key
_VALUES = {
    "role": lambda: staff.labels.ROLE,
    "section": lambda: {**patients.labels.HISTORY_KIND, **labels.SECTION},
    "result": lambda: followups.labels.RESULT,
    "before": lambda: booking.labels.STATUS,
    "after": lambda: booking.labels.STATUS,
}


def _is_reference(key: str, value) -> bool:
    """An internal id (``task_id``, ``report``, ``held``): a number no reader can use."""
    return isinstance(value, int) and not isinstance(value, bool) and (
        key.endswith("_id") or key in ("report", "held") or value >= 10 ** 12)


def export_csv(filters: Filters) -> Iterator[str]:
    """The filtered trail as CSV text, a chunk at a time (the caller audits the export)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("When"), _("Who"), _("What"), _("Patient"), _("Details"), _("Address")])
    yield "\ufeff" + buffer.getvalue()  # a BOM: Excel then reads the Chinese right
    cursor, written = "", 0
    while written < EXPORT_LIMIT:
        page = search(filters, cursor=cursor, limit=1000)
        buffer.seek(0)
        buffer.truncate()
        for row in describe(page.events):
            writer.writerow([clock.local(row.event.at).strftime("%Y-%m-%d %H:%M:%S"), row.who, row.what,
                             row.patient, row.details, row.event.ip])
        written += len(page.events)
        yield buffer.getvalue()
        if not page.next_cursor:
            return
        cursor = page.next_cursor


@dataclass
class Opened:
    at: datetime
    name: str
    role: str
    what: str


def who_opened(patient_id: int, limit: int = 200) -> list[Opened]:
    """For the patient, in the portal: who at the clinic opened or changed their record, and when; and
    the files they took themselves (their report downloads), shown as theirs."""
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == patient_id,
        or_(and_(AuditEvent.actor_id.is_not(None), AuditEvent.action.in_(SEEN_BY_PATIENT)),
            and_(AuditEvent.actor_label == audit.PORTAL_ACTOR, AuditEvent.action.in_(DONE_BY_PATIENT))))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
    people = staff.get_many(e.actor_id for e in events if e.actor_id is not None)
    out = []
    for e in events:
        what = str(labels.ACTION.get(e.action, e.action))
        if e.actor_id is None:
            out.append(Opened(e.at, _("You"), "", what))
        elif (person := people.get(e.actor_id)) is not None:
            out.append(Opened(e.at, person.name, str(staff.labels.ROLE.get(person.role, person.role)), what))
    return out
