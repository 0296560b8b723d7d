"""What each role's home page shows, gathered from the capabilities' services.
Every list is read in a few set-based queries: the rows, then the patients
they name in one query."""
from dataclasses import dataclass
from datetime import date, timedelta

from app.booking import services as booking
from app.core import clock
from app.followups import services as followups
from app.patients import services as patients
from app.records import services as records

# Which page a role starts on; owners and admins get the clinic overview.
PAGE_OF_ROLE = {"front_desk": "front_desk", "doctor": "doctor", "health_manager": "health_manager",
                "owner": "clinic", "admin": "clinic"}


def week_start(day: date) -> date:
    """Monday of the clinic week of ``day``."""
    return day - timedelta(days=day.weekday())


@dataclass
class FrontDesk:
    today: date
    arrivals: list       # today's orders by time
    patients: dict       # {id: Patient} for the arrivals
    opened_today: list   # cards opened today


def front_desk() -> FrontDesk:
    today = clock.today()
    arrivals = booking.orders.on_day(today)
    return FrontDesk(today, arrivals, patients.get_many(o.patient_id for o in arrivals), patients.opened_on(today))


@dataclass
class Doctor:
    since: date
    alerts: list
    alert_total: int
    waiting: object      # records.attention.Waiting
    abnormal: list       # records.attention.NewAbnormal, my patients
    patients: dict


def doctor(user) -> Doctor:
    since = week_start(clock.today())
    rows, total = records.alerts.page_of(records.alerts.viewer(user), records.alerts.Filters(status="open"),
                                         per_page=20)
    abnormal = records.attention.abnormal_since(patients.of_doctor(user.id), since)
    names = patients.get_many([a.patient_id for a in rows] + [a.patient_id for a in abnormal])
    return Doctor(since, rows, total, records.attention.reports_waiting(), abnormal, names)


@dataclass
class HealthManager:
    today: date
    since: date
    overdue: list
    due_today: list
    escalated: list
    contacts: object     # followups.services.Contacts
    patients: dict
    phones: dict         # {patient id: masked mobile}


def health_manager(user) -> HealthManager:
    today = clock.today()
    since = week_start(today)
    bench = followups.my_tasks(user.id, day=today)
    escalated = followups.escalated_for(user.id)
    contacts = followups.contacts_since(user.id, since)
    names = patients.get_many([t.patient_id for t in bench.overdue + bench.today + escalated]
                              + [r.patient_id for r in contacts.latest])
    return HealthManager(today, since, bench.overdue, bench.today, escalated, contacts, names,
                         patients.masked_mobiles(names.values()))


@dataclass
class Clinic:
    patient_count: int
    recent: list


def clinic() -> Clinic:
    return Clinic(patient_count=patients.count_active(), recent=patients.recent())
