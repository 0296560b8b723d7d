"""What starts and stops a plan.

- Tags: ``tags_changed(patient_ids=..., tag_ids=...)`` is called by the
  tagging engine after it adds or removes tags (one patient, or clinic-wide
  for a rule). A patient who now carries a plan's tag and has not been
  enrolled since the tag was applied is enrolled; an active enrolment whose
  tag is gone is cancelled, its pending tasks with it, and the reason kept.
- Enrolment (开卡), an exam report imported for a patient and a booking
  completed are seen by a session hook (new ``Patient`` / ``ExamReport``
  rows, an ``Order`` whose status became ``completed``) and acted on just
  before the transaction commits, so the tasks commit with the change;
  the triggers of one transaction are acted on together, per plan.
"""
import logging
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import event, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from app.followups import enrolment, plans
from app.followups.models import FollowupPlan, PlanEnrolment
from tenants.context import current_tenant_id
from tenants.db import db

log = logging.getLogger(__name__)
_PENDING_KEY = "careloop_followup_triggers"


# ---------------------------------------------------------- enrol / fire

def enrol(plan: FollowupPlan, patient_id: int, *, started_by: str = "") -> PlanEnrolment | None:
    """Start the plan for one patient and create its tasks; None if the
    patient follows it already or is archived. The caller commits."""
    enrolled = enrolment.enrol_many(plan, {patient_id: started_by})
    if patient_id not in enrolled:
        return None
    return db.session.scalar(select(PlanEnrolment).where(PlanEnrolment.id == enrolled[patient_id]))


def fire(trigger: str, started_by: dict[int, str]) -> int:
    """Enrol these patients (id -> what happened) in every active plan that
    ``trigger`` starts. Returns how many enrolments began."""
    return sum(len(enrolment.enrol_many(plan, started_by)) for plan in plans.active_for(trigger))


# --------------------------------------------------------------------- tags

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
        query = select(PlanEnrolment.id, PlanEnrolment.patient_id, PlanEnrolment.status,
                       PlanEnrolment.started_at).where(PlanEnrolment.plan_id == plan.id)
        if patient_ids is not None:
            query = query.where(PlanEnrolment.patient_id.in_(patient_ids))
        latest: dict[int, datetime] = {}
        stale = []
        for enrolment_id, patient_id, status, started_at in db.session.execute(query):
            latest[patient_id] = max(started_at, latest.get(patient_id, started_at))
            if status == "active" and patient_id not in holders:
                stale.append(enrolment_id)
        if stale:
            enrolment.cancel_many(stale, _("The tag “%(tag)s” no longer applies.", tag=plan.trigger_tag))
        started_by = _("Tag “%(tag)s” added", tag=plan.trigger_tag)
        starts = {patient_id: started_by for patient_id, applied_at in holders.items()
                  if patient_id not in latest or latest[patient_id] < applied_at}
        if starts:
            enrolment.enrol_many(plan, starts)


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
    by_trigger: dict[str, dict[int, str]] = {}
    for owner, trigger, patient_id, detail in pending:
        if owner != tenant_id or patient_id is None:
            log.warning("follow-up trigger %s of tenant %s skipped: tenant %s is current", trigger, owner, tenant_id)
            continue
        by_trigger.setdefault(trigger, {}).setdefault(patient_id, detail)
    for trigger, started_by in by_trigger.items():
        fire(trigger, started_by)
    session.flush()


def _after_soft_rollback(session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)


def install_hooks() -> None:
    if not event.contains(Session, "before_flush", _seen):
        event.listen(Session, "before_flush", _seen)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
