"""What starts and stops a plan: the signals of other capabilities.

- Tags (tagging's ``tags_changed``, one patient or clinic-wide for a rule):
  a patient who now carries a plan's tag and has not been enrolled since the
  tag was applied is enrolled; an active enrolment whose tag is gone is
  cancelled, its pending tasks with it, and the reason kept. This runs in
  the tagging transaction, so tags and tasks commit together.
- A card opened (开卡), an exam report filed for a patient, a booked exam
  completed: gathered over the transaction and acted on just before it
  commits, per plan, so an import of many reports enrols in sets and the
  tasks commit with the change.
"""
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.booking import services as booking
from app.core import events, txn
from app.followups import enrolment, plans
from app.followups.models import FollowupPlan, PlanEnrolment
from app.patients import services as patients
from app.records import services as records
from app.tagging import services as tagging
from tenants.context import tenant_context
from tenants.db import db

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

def tags_changed(*, patient_ids: list[int] | None = None, tag_ids: list[int] | None = None) -> None:
    """Bring tag-started plans in line with the tags patients now carry
    (``patient_ids``: only these patients; ``tag_ids``: only plans of these tags)."""
    wanted = plans.active_for("tag_added")
    if tag_ids is not None:
        names = tagging.tag_names(tag_ids)
        wanted = [p for p in wanted if p.trigger_tag in names]
    for plan in wanted:
        holders = tagging.holders(plan.trigger_tag, patient_ids)
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

def _act_on(trigger: str):
    """The before-commit work of one trigger: every (clinic, patient, what
    happened) gathered in the transaction, enrolled per plan at once."""
    def act(items: list[tuple[int, int, str]]) -> None:
        by_clinic: dict[int, dict[int, str]] = {}
        for tenant_id, patient_id, detail in items:
            by_clinic.setdefault(tenant_id, {}).setdefault(patient_id, detail)
        for tenant_id, started_by in by_clinic.items():
            with tenant_context(tenant_id):
                fire(trigger, started_by)
    return act


_ACTS = {trigger: _act_on(trigger) for trigger in ("enrolment", "report_imported", "booking_completed")}


def _gather(trigger: str, tenant_id: int, patient_id: int, detail: str) -> None:
    txn.gather(_ACTS[trigger], (tenant_id, patient_id, detail), key=f"followups:{trigger}")


def _card_opened(tenant_id: int, *, patient_id: int, **_) -> None:
    _gather("enrolment", tenant_id, patient_id, "")


def _report_imported(tenant_id: int, *, patient_id: int, label: str = "", **_) -> None:
    _gather("report_imported", tenant_id, patient_id, label)


def _order_completed(tenant_id: int, *, patient_id: int, label: str = "", **_) -> None:
    _gather("booking_completed", tenant_id, patient_id, label)


def _tags_changed(_tenant_id: int, *, patient_ids: list[int] | None = None, tag_ids: list[int] | None = None,
                  **_) -> None:
    tags_changed(patient_ids=patient_ids, tag_ids=tag_ids)


def listen() -> None:
    events.connect(patients.card_opened, _card_opened)
    events.connect(records.report_imported, _report_imported)
    events.connect(booking.order_completed, _order_completed)
    events.connect(tagging.tags_changed, _tags_changed)
