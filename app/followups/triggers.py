"""What starts and stops a plan.

- Tags: ``tags_changed(patient_ids=..., tag_ids=...)`` is called by the
  tagging engine after it adds or removes tags (one patient, or clinic-wide
  for a rule). A patient who now carries a plan's tag and has not been
  enrolled since the tag was applied is enrolled; an active enrolment whose
  tag is gone is cancelled, its pending tasks with it, and the reason kept.
- Enrolment (开卡), an exam report imported for a patient and a booking
  completed are seen by a session hook (new ``Patient`` / ``ExamReport``
  rows, an ``Order`` whose status became ``completed``) and acted on just
  before the transaction commits, so the tasks commit with the change.
"""
import logging
from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import event, func, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from app.followups import plans
from app.followups.models import FollowupPlan, FollowupTask, PlanEnrolment
from tenants.context import current_tenant_id
from tenants.db import db
from tenants.models import utcnow

log = logging.getLogger(__name__)
_PENDING_KEY = "careloop_followup_triggers"


# --------------------------------------------------------------- assignment

def assignee_for(patient) -> int | None:
    """The patient's health manager if active, else the active health
    manager with the fewest open tasks (None if the clinic has none)."""
    from app.auth.models import StaffUser

    if patient.health_manager_id:
        user = db.session.scalar(select(StaffUser).where(StaffUser.id == patient.health_manager_id))
        if user is not None and user.active:
            return user.id
    open_tasks = (select(FollowupTask.assignee_id, func.count().label("n")).where(FollowupTask.status == "pending")
                  .group_by(FollowupTask.assignee_id).subquery())
    row = db.session.execute(
        select(StaffUser.id).outerjoin(open_tasks, open_tasks.c.assignee_id == StaffUser.id)
        .where(StaffUser.role == "health_manager", StaffUser.active.is_(True))
        .order_by(func.coalesce(open_tasks.c.n, 0), StaffUser.created_at, StaffUser.id).limit(1)).first()
    return row[0] if row else None


# ---------------------------------------------------------- enrol / cancel

def enrol(plan: FollowupPlan, patient_id: int, *, started_by: str = "") -> PlanEnrolment | None:
    """Start the plan for the patient and create its tasks; None if the
    patient follows it already (one active enrolment per plan). The caller commits."""
    from app.patients import services as patients

    patient = patients.get(patient_id)
    if patient is None or patient.archived_at is not None:
        return None
    if _active(plan.id, patient_id) is not None:
        return None
    enrolment = PlanEnrolment(plan_id=plan.id, patient_id=patient_id, started_by=started_by[:200])
    try:
        with db.session.begin_nested():  # a concurrent trigger loses on the partial unique index
            db.session.add(enrolment)
            db.session.flush()
    except IntegrityError:
        return None
    assignee = assignee_for(patient)
    for due in plans.due_dates(plan, plans.today()):
        db.session.add(FollowupTask(enrolment_id=enrolment.id, plan_id=plan.id, patient_id=patient_id,
                                    assignee_id=assignee, due_date=due, channel=plan.channel,
                                    max_attempts=plan.max_attempts))
    db.session.flush()
    return enrolment


def cancel_enrolment(enrolment: PlanEnrolment, reason: str) -> int:
    """End an enrolment and cancel its pending tasks with the reason. Returns how many."""
    enrolment.status, enrolment.reason, enrolment.ended_at = "cancelled", reason[:200], utcnow()
    tasks = list(db.session.scalars(select(FollowupTask).where(
        FollowupTask.enrolment_id == enrolment.id, FollowupTask.status == "pending")))
    for task in tasks:
        task.status, task.cancel_reason = "cancelled", reason[:200]
    db.session.flush()
    return len(tasks)


def _active(plan_id: int, patient_id: int) -> PlanEnrolment | None:
    return db.session.scalar(select(PlanEnrolment).where(
        PlanEnrolment.plan_id == plan_id, PlanEnrolment.patient_id == patient_id,
        PlanEnrolment.status == "active"))


def fire(trigger: str, patient_id: int, detail: str = "") -> list[PlanEnrolment]:
    """Enrol the patient in every active plan started by ``trigger``."""
    return [e for plan in plans.active_for(trigger) if (e := enrol(plan, patient_id, started_by=detail))]


# --------------------------------------------------------------------- tags

def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _holders(tag_name: str, patient_ids) -> dict[int, datetime]:
    """Who carries the tag (by a rule or by hand), and since when."""
    from app.tagging.models import ManualTag, PatientTag, Tag

    tag_id = db.session.scalar(select(Tag.id).where(Tag.name == tag_name))
    if tag_id is None:
        return {}
    parts = [select(PatientTag.patient_id, PatientTag.applied_at).where(PatientTag.tag_id == tag_id),
             select(ManualTag.patient_id, ManualTag.applied_at).where(ManualTag.tag_id == tag_id)]
    if patient_ids is not None:
        parts = [p.where(p.selected_columns[0].in_(patient_ids)) for p in parts]
    since: dict[int, datetime] = {}
    for patient_id, applied_at in db.session.execute(union_all(*parts)):
        applied_at = _aware(applied_at)
        if patient_id not in since or applied_at < since[patient_id]:
            since[patient_id] = applied_at
    return since


def tags_changed(*, patient_ids: list[int] | None = None, tag_ids: list[int] | None = None) -> None:
    """Bring tag-started plans in line with the tags patients now carry
    (``patient_ids``: only these patients; ``tag_ids``: only plans of these tags)."""
    from app.tagging.models import Tag

    wanted = plans.active_for("tag_added")
    if tag_ids is not None:
        names = set(db.session.scalars(select(Tag.name).where(Tag.id.in_(tag_ids))))
        wanted = [p for p in wanted if p.trigger_tag in names]
    for plan in wanted:
        holders = _holders(plan.trigger_tag, patient_ids)
        query = select(PlanEnrolment).where(PlanEnrolment.plan_id == plan.id)
        if patient_ids is not None:
            query = query.where(PlanEnrolment.patient_id.in_(patient_ids))
        latest: dict[int, datetime] = {}
        for enrolment in db.session.scalars(query):
            started = _aware(enrolment.started_at)
            latest[enrolment.patient_id] = max(started, latest.get(enrolment.patient_id, started))
            if enrolment.status == "active" and enrolment.patient_id not in holders:
                cancel_enrolment(enrolment, _("The tag “%(tag)s” no longer applies.", tag=plan.trigger_tag))
        for patient_id, applied_at in holders.items():
            if patient_id not in latest or latest[patient_id] < applied_at:
                enrol(plan, patient_id, started_by=_("Tag “%(tag)s” added", tag=plan.trigger_tag))


# ------------------------------------------------- enrolment, reports, orders

def _seen(session, flush_context, instances) -> None:
    from app.booking.models import Order
    from app.patients.models import Patient
    from app.records.models import ExamReport

    found = []
    for obj in session.new:
        if isinstance(obj, Patient):
            found.append(("enrolment", obj.id, ""))
        elif isinstance(obj, ExamReport) and obj.patient_id and obj.status in (None, "imported"):
            found.append(("report_imported", obj.patient_id, obj.title or ""))
    for obj in session.dirty:
        if isinstance(obj, Order) and "completed" in (get_history(obj, "status").added or ()):
            found.append(("booking_completed", obj.patient_id, obj.order_no))
        elif isinstance(obj, ExamReport) and obj.patient_id:
            history = get_history(obj, "patient_id")  # an unmatched report assigned to a patient
            if history.added and not any(history.deleted):
                found.append(("report_imported", obj.patient_id, obj.title or ""))
    if found and current_tenant_id() is not None:
        session.info.setdefault(_PENDING_KEY, []).extend((current_tenant_id(), *item) for item in found)


def _before_commit(session) -> None:
    if not session.info.get(_PENDING_KEY):
        return
    session.flush()
    pending = session.info.pop(_PENDING_KEY, [])
    tenant_id = current_tenant_id()
    for owner, trigger, patient_id, detail in pending:
        if owner != tenant_id or patient_id is None:
            log.warning("follow-up trigger %s of tenant %s skipped: tenant %s is current", trigger, owner, tenant_id)
            continue
        fire(trigger, patient_id, detail)
    session.flush()


def _after_soft_rollback(session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)


def install_hooks() -> None:
    if not event.contains(Session, "before_flush", _seen):
        event.listen(Session, "before_flush", _seen)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
