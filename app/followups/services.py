"""Follow-up tasks: the workbench lists, recording a contact (with measures
that become observations), escalation after repeated failed contacts.

A task's ``version`` is checked twice: against the version the form was
rendered with (someone saved in between) and by the UPDATE itself
(SQLAlchemy's version counter: two saves at the same moment, one wins).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from app.auth import services as staff
from app.core import audit, clock, events
from app.core.errors import FieldErrors
from app.followups import labels, notices, plans  # noqa: F401  (labels: how others name call results)
from app.followups.enrolment import enrol_many
from app.followups.models import (  # noqa: F401  (FollowupPlan: read by the questionnaires' plan steps)
    FAILED_RESULTS,
    RESULTS,
    FollowupPlan,
    FollowupRecord,
    FollowupTask,
    PlanEnrolment,
)
from app.followups.signals import followup_recorded  # noqa: F401  (others listen)
from app.patients import services as patients
from app.records import services as records
from tenants.db import db
from tenants.models import utcnow

UPCOMING_DAYS = 14
# Patient-reported measures: form field -> (LOINC code, unit, lowest, highest)
MEASURES = {
    "systolic": ("8480-6", "mm[Hg]", 50, 300),
    "diastolic": ("8462-4", "mm[Hg]", 30, 200),
    "weight": ("29463-7", "kg", 2, 400),
    "glucose": ("14771-0", "mmol/L", 1, 40),
}

# The readings a caller sees on a task: the measures above and the usual chronic-care markers.
READING_CODES = tuple(code for code, _unit, _low, _high in MEASURES.values()) + ("4548-4", "14647-2", "39156-5")


class FollowupError(FieldErrors):
    """A follow-up record that cannot be saved, by form field."""


class TaskChanged(RuntimeError):
    """Someone else recorded or changed the task since the form was shown."""


# -------------------------------------------------------------------- reads

def get_task(task_id: int) -> FollowupTask | None:
    return db.session.scalar(select(FollowupTask).where(FollowupTask.id == task_id))


def get_record(record_id: int) -> FollowupRecord | None:
    return db.session.scalar(select(FollowupRecord).where(FollowupRecord.id == record_id))


def records_of(task_id: int) -> list[FollowupRecord]:
    return list(db.session.scalars(select(FollowupRecord).where(FollowupRecord.task_id == task_id)
                                   .order_by(FollowupRecord.created_at.desc())))


def tasks_of_patient(patient_id: int) -> list[FollowupTask]:
    return list(db.session.scalars(select(FollowupTask).where(FollowupTask.patient_id == patient_id)
                                   .order_by(FollowupTask.due_date, FollowupTask.id)))


def enrolment_of(task: FollowupTask) -> PlanEnrolment | None:
    if task.enrolment_id is None:
        return None
    return db.session.scalar(select(PlanEnrolment).where(PlanEnrolment.id == task.enrolment_id))


@dataclass
class Workbench:
    overdue: list
    today: list
    upcoming: list


def my_tasks(user_id: int, *, day: date | None = None) -> Workbench:
    """A person's pending tasks: overdue, due today, due in the next two weeks."""
    day = day or plans.today()
    rows = list(db.session.scalars(select(FollowupTask).where(
        FollowupTask.assignee_id == user_id, FollowupTask.status == "pending",
        FollowupTask.due_date <= day + timedelta(days=UPCOMING_DAYS)).order_by(FollowupTask.due_date, FollowupTask.id)))
    return Workbench([t for t in rows if t.due_date < day], [t for t in rows if t.due_date == day],
                     [t for t in rows if t.due_date > day])


def due_count(user_id: int, *, day: date | None = None) -> int:
    """How many of a person's tasks are due today or overdue (the nav count)."""
    day = day or plans.today()
    return db.session.scalar(select(func.count()).select_from(FollowupTask).where(
        FollowupTask.assignee_id == user_id, FollowupTask.status == "pending", FollowupTask.due_date <= day)) or 0


def overdue_tasks(*, day: date | None = None, limit: int = 200) -> list[FollowupTask]:
    day = day or plans.today()
    return list(db.session.scalars(select(FollowupTask).where(
        FollowupTask.status == "pending", FollowupTask.due_date < day)
        .order_by(FollowupTask.escalated_at.is_(None), FollowupTask.due_date).limit(limit)))


def escalated_tasks() -> list[FollowupTask]:
    return list(db.session.scalars(select(FollowupTask).where(
        FollowupTask.status == "pending", FollowupTask.escalated_at.is_not(None)).order_by(FollowupTask.escalated_at)))


def escalated_for(user_id: int, limit: int = 50) -> list[FollowupTask]:
    """Open tasks escalated from this person (theirs) or to them, the earliest escalation first."""
    return list(db.session.scalars(select(FollowupTask).where(
        FollowupTask.status == "pending", FollowupTask.escalated_at.is_not(None),
        or_(FollowupTask.assignee_id == user_id, FollowupTask.escalated_to == user_id))
        .order_by(FollowupTask.escalated_at).limit(limit)))


@dataclass
class Contacts:
    by_result: dict
    latest: list

    @property
    def total(self) -> int:
        return sum(self.by_result.values())


def contacts_since(user_id: int, since: date, limit: int = 10) -> Contacts:
    """A person's follow-up contacts recorded since the clinic day ``since``: how many of each result, the latest."""
    window = (FollowupRecord.staff_id == user_id, *clock.within_days(FollowupRecord.created_at, since, None))
    counts: dict[str, int] = {result: n for result, n in db.session.execute(
        select(FollowupRecord.result, func.count()).where(*window).group_by(FollowupRecord.result))}
    latest = list(db.session.scalars(select(FollowupRecord).where(*window)
                                     .order_by(FollowupRecord.created_at.desc()).limit(limit)))
    return Contacts({key: counts.get(key, 0) for key in RESULTS}, latest)


def contact_counts(patient_id: int, since: date, until: date) -> dict[str, int]:
    """How many of the patient's follow-up contacts of each result were recorded on clinic days since–until."""
    counts = {result: n for result, n in db.session.execute(
        select(FollowupRecord.result, func.count()).where(
            FollowupRecord.patient_id == patient_id, *clock.within_days(FollowupRecord.created_at, since, until))
        .group_by(FollowupRecord.result))}
    return {result: counts.get(result, 0) for result in RESULTS}


def previous_contacts(patient_id: int, *, excluding_task: int, limit: int = 10) -> list[FollowupRecord]:
    """A patient's contacts on their other tasks, newest first (the task page)."""
    return list(db.session.scalars(select(FollowupRecord).where(
        FollowupRecord.patient_id == patient_id, FollowupRecord.task_id != excluding_task)
        .order_by(FollowupRecord.created_at.desc()).limit(limit)))


def next_due(patient_ids) -> dict[int, date]:
    """{patient id: the earliest pending task's due date}, in one query."""
    wanted = list(set(patient_ids))
    if not wanted:
        return {}
    return {patient_id: due for patient_id, due in db.session.execute(
        select(FollowupTask.patient_id, func.min(FollowupTask.due_date)).where(
            FollowupTask.patient_id.in_(wanted), FollowupTask.status == "pending").group_by(FollowupTask.patient_id))}


@dataclass
class Workload:
    user: object
    open: int
    due: int
    overdue: int


def workload(*, day: date | None = None) -> list[Workload]:
    """Each active health manager's open, due-today and overdue tasks."""
    day = day or plans.today()
    counts = {row.assignee_id: row for row in db.session.execute(
        select(FollowupTask.assignee_id, func.count().label("open"),
               func.sum(case((FollowupTask.due_date == day, 1), else_=0)).label("due"),
               func.sum(case((FollowupTask.due_date < day, 1), else_=0)).label("overdue"))
        .where(FollowupTask.status == "pending").group_by(FollowupTask.assignee_id))}
    people = staff.active_staff(("health_manager",))
    result = []
    for user in people:
        row = counts.get(user.id)
        result.append(Workload(user, row.open if row else 0, int(row.due or 0) if row else 0,
                               int(row.overdue or 0) if row else 0))
    return result


# ------------------------------------------------------------------- writes

@dataclass
class ContactData:
    result: str = ""
    notes: str = ""
    systolic: str = ""
    diastolic: str = ""
    weight: str = ""
    glucose: str = ""
    next_date: str = ""
    version: str = ""


def _measures(data: ContactData, errors: dict) -> dict[str, float]:
    found = {}
    for name, (_code, _unit, low, high) in MEASURES.items():
        text = (getattr(data, name) or "").strip()
        if not text:
            continue
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            errors[name] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
        else:
            found[name] = number
    if ("systolic" in found) != ("diastolic" in found) and not {"systolic", "diastolic"} & set(errors):
        errors["diastolic" if "systolic" in found else "systolic"] = _("Enter both blood pressure values.")
    elif found.get("systolic", 1) <= found.get("diastolic", 0):
        errors["diastolic"] = _("The diastolic value must be below the systolic.")
    return found


def _check(data: ContactData) -> tuple[dict, date | None]:
    errors: dict[str, str] = {}
    if data.result not in RESULTS:
        errors["result"] = _("Choose the result of the contact.")
    if len(data.notes or "") > 4000:
        errors["notes"] = _("Notes have at most 4000 characters.")
    measures = _measures(data, errors)
    if measures and data.result != "reached":
        errors.setdefault("systolic" if "systolic" in measures else next(iter(measures)),
                          _("Measures can be recorded only when the patient was reached."))
    next_date = None
    if (data.next_date or "").strip():
        try:
            next_date = date.fromisoformat(data.next_date.strip())
        except ValueError:
            errors["next_date"] = _("Enter a date like 2026-12-31.")
        else:
            if not plans.today() < next_date <= plans.today() + timedelta(days=3 * 365):
                errors["next_date"] = _("The next follow-up must be after today and within three years.")
    if errors:
        raise FollowupError(errors)
    return measures, next_date


def add_task(patient_id: int, *, assignee_id: int | None, due_date: date, channel: str = "phone",
             plan_id: int | None = None) -> FollowupTask:
    """A single task outside any plan's schedule (demo data, a one-off call). The caller commits."""
    task = FollowupTask(patient_id=patient_id, assignee_id=assignee_id, due_date=due_date, channel=channel,
                        plan_id=plan_id)
    db.session.add(task)
    db.session.flush()
    return task


def cancel_tasks(task_ids, reason: str) -> int:
    """Cancel those of these tasks still pending (a care plan closed); the reason is kept. The
    caller commits. Returns how many were cancelled."""
    ids = [int(i) for i in task_ids]
    if not ids:
        return 0
    cancelled = 0
    for task in db.session.scalars(select(FollowupTask).where(FollowupTask.id.in_(ids),
                                                              FollowupTask.status == "pending")):
        task.status, task.cancel_reason = "cancelled", reason[:200]  # versioned rows: through the ORM
        cancelled += 1
    return cancelled


def manager_for_escalation() -> int | None:
    """The clinic's longest-serving active admin, else its owner."""
    managers = sorted(staff.active_staff(("owner", "admin")), key=lambda u: (u.role != "admin", u.created_at))
    return managers[0].id if managers else None


def _store_measures(task: FollowupTask, measures: dict, actor_id: int | None) -> None:
    patient = patients.get(task.patient_id)
    now = clock.utcnow().replace(microsecond=0)
    values = []
    for name, number in measures.items():
        code, unit, _low, _high = MEASURES[name]
        indicator = records.indicator_by_code(code)
        if indicator is not None:
            values.append(records.Value(indicator, f"{number:g}", unit, now))
    if values:
        records.store_many(patient, values, origin="manual", actor_id=actor_id)


def record_contact(task: FollowupTask, data: ContactData, *, actor_id: int | None) -> FollowupRecord:
    """Record one contact attempt. Raises FollowupError (per field) or
    TaskChanged (someone saved first). The caller commits."""
    if str(task.version) != str(data.version).strip():
        raise TaskChanged()
    if task.status != "pending":
        raise FollowupError({"result": _("This task is closed.")})
    measures, next_date = _check(data)
    record = FollowupRecord(task_id=task.id, patient_id=task.patient_id, staff_id=actor_id, result=data.result,
                            notes=(data.notes or "").strip(), measures=measures, next_date=next_date)
    db.session.add(record)
    escalating = False
    if data.result in FAILED_RESULTS:
        task.failed_attempts += 1
        if task.failed_attempts >= task.max_attempts and task.escalated_at is None:
            task.escalated_at, task.escalated_to, escalating = utcnow(), manager_for_escalation(), True
    else:
        task.status, task.completed_at = "done", utcnow()
    try:
        db.session.flush()  # UPDATE ... WHERE version = :seen
    except StaleDataError as exc:
        raise TaskChanged() from exc
    if escalating:
        notices.escalated(task)
    if measures:
        _store_measures(task, measures, actor_id)
    if next_date:
        _next_task(task, next_date)
    complete_enrolment_if_done(task)
    audit.record("followup_recorded", patient_id=task.patient_id, task_id=task.id, result=data.result)
    events.send(followup_recorded, task_id=task.id, patient_id=task.patient_id, result=data.result,
                completed=task.status == "done")
    return record


def _next_task(task: FollowupTask, when: date) -> None:
    clash = db.session.scalar(select(FollowupTask.id).where(
        FollowupTask.patient_id == task.patient_id, FollowupTask.status == "pending",
        FollowupTask.due_date == when, FollowupTask.plan_id.is_not_distinct_from(task.plan_id)))
    if clash is None:
        db.session.add(FollowupTask(enrolment_id=task.enrolment_id, plan_id=task.plan_id, patient_id=task.patient_id,
                                    assignee_id=task.assignee_id, due_date=when, channel=task.channel,
                                    max_attempts=task.max_attempts))
        db.session.flush()


def complete_enrolment_if_done(task: FollowupTask) -> None:
    enrolment = enrolment_of(task)
    if enrolment is None or enrolment.status != "active":
        return
    left = db.session.scalar(select(func.count()).select_from(FollowupTask).where(
        FollowupTask.enrolment_id == enrolment.id, FollowupTask.status == "pending"))
    if not left:
        enrolment.status, enrolment.ended_at, enrolment.reason = "completed", utcnow(), ""




def complete_form_step(task_id: int, patient_id: int) -> bool:
    """The patient submitted the questionnaire a plan step sent: the task is done, with a record that
    says so (no staff member). False if the task is not pending (done by hand meanwhile, or cancelled)."""
    task = db.session.scalar(select(FollowupTask).where(FollowupTask.id == task_id,
                                                        FollowupTask.patient_id == patient_id))
    if task is None or task.status != "pending":
        return False
    db.session.add(FollowupRecord(task_id=task.id, patient_id=patient_id, staff_id=None, result="reached",
                                  notes="", measures={}, next_date=None))
    task.status, task.completed_at = "done", utcnow()
    db.session.flush()
    complete_enrolment_if_done(task)
    return True


# ------------------------------------------------- enrolment by staff, in sets

def following_a_plan(patient_id_column, tenant_id_column):
    """A WHERE clause: the patient follows some plan now (an active enrolment). The tenant_id match keeps
    the subquery on the clinic's rows (the ORM's tenant filter does not reach into a Core EXISTS)."""
    return exists().where(PlanEnrolment.tenant_id == tenant_id_column, PlanEnrolment.patient_id == patient_id_column,
                          PlanEnrolment.status == "active")


def plans_to_enrol_in() -> list[FollowupPlan]:
    """The active plans staff may enrol patients in by hand: not those a tag
    starts, which end an enrolment whose patient does not carry the tag."""
    return [plan for plan in plans.list_plans() if plan.active and plan.trigger != "tag_added"]


@dataclass
class Enrolled:
    enrolled: int
    skipped: int   # following the plan already (or archived)


def enrol_listed(plan: FollowupPlan, patient_ids: list[int], *, started_by: str) -> Enrolled:
    """Start the plan for these patients in the caller's transaction, each
    enrolment audited; those following it already are skipped. The caller commits."""
    wanted = list(dict.fromkeys(patient_ids))
    enrolled = enrol_many(plan, {patient_id: started_by for patient_id in wanted})
    for patient_id, enrolment_id in enrolled.items():
        audit.record("followup_enrolled", patient_id=patient_id, plan_id=plan.id, enrolment_id=enrolment_id,
                     started_by=started_by)
    return Enrolled(len(enrolled), len(wanted) - len(enrolled))
