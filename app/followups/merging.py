"""A self-registered card merged into an existing card: its follow-up plans,
tasks, records and recordings move. A plan both cards follow goes on as the
kept card's: the merged card's copy ends, its open tasks cancelled with the
reason."""
from sqlalchemy import select, update

from app.core import events
from app.followups.models import CallRecording, FollowupRecord, FollowupTask, PlanEnrolment
from app.patients import services as patients
from tenants.db import db
from tenants.models import utcnow

REASON = "card merged into {card}: the plan goes on on that card"


def _cards_merged(_tenant_id: int, *, source_id: int, target_id: int, **_) -> None:
    target = patients.get(target_id)
    reason = REASON.format(card=target.card_no if target else target_id)[:200]
    followed = set(db.session.scalars(select(PlanEnrolment.plan_id).where(
        PlanEnrolment.patient_id == target_id, PlanEnrolment.status == "active")))
    twins = list(db.session.scalars(select(PlanEnrolment.id).where(
        PlanEnrolment.patient_id == source_id, PlanEnrolment.status == "active",
        PlanEnrolment.plan_id.in_(followed))))
    if twins:
        db.session.execute(update(PlanEnrolment).where(PlanEnrolment.id.in_(twins)).values(
            status="cancelled", reason=reason, ended_at=utcnow()).execution_options(synchronize_session="fetch"))
        for task in db.session.scalars(select(FollowupTask).where(
                FollowupTask.enrolment_id.in_(twins), FollowupTask.status == "pending")):
            task.status, task.cancel_reason = "cancelled", reason  # versioned rows: through the ORM
    db.session.flush()
    for model in (PlanEnrolment, CallRecording, FollowupRecord):
        db.session.execute(update(model).where(model.patient_id == source_id).values(patient_id=target_id)
                           .execution_options(synchronize_session="fetch"))
    for task in db.session.scalars(select(FollowupTask).where(FollowupTask.patient_id == source_id)):
        task.patient_id = target_id


def listen() -> None:
    events.connect(patients.cards_merged, _cards_merged)
