"""Reading and closing plans: a patient's plans, one plan of the clinic, and
closing with its outcome (goals met, partly met or not met, and a note),
which cancels the plan's pending follow-up tasks and unsent reminders."""
from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit, clock
from app.interventions import plan_schedule
from app.interventions.plan_models import OUTCOMES, CarePlan
from app.interventions.plan_start import PlanError
from tenants.db import db

MAX_NOTE = 2000


def get(plan_id: int) -> CarePlan | None:
    return db.session.scalar(select(CarePlan).where(CarePlan.id == plan_id))


def of_patient(patient_id: int, *, active_only: bool = False) -> list[CarePlan]:
    query = select(CarePlan).where(CarePlan.patient_id == patient_id)
    if active_only:
        query = query.where(CarePlan.status == "active")
    return list(db.session.scalars(query.order_by(CarePlan.status, CarePlan.start_date.desc(), CarePlan.id)))


def close(plan: CarePlan, outcome: str, note: str, *, actor_id: int | None) -> tuple[int, int]:
    """Close the plan with its outcome; returns (tasks, reminders) cancelled. Raises PlanError. The caller commits."""
    errors = {}
    if plan.status != "active":
        errors["outcome"] = _("This plan is closed already.")
    elif outcome not in OUTCOMES:
        errors["outcome"] = _("Choose the outcome.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _("A note has at most %(n)d characters.", n=MAX_NOTE)
    if errors:
        raise PlanError(errors)
    plan.status, plan.outcome, plan.outcome_note = "closed", outcome, note
    plan.closed_at, plan.closed_by = clock.utcnow(), actor_id
    cancelled = plan_schedule.cancel(plan, "care plan closed")
    audit.record("care_plan_closed", patient_id=plan.patient_id, plan=plan.title, outcome=outcome)
    return cancelled
