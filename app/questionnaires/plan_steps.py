"""Follow-up plan steps that ask the patient to fill a questionnaire (the
plan's channel "form" names it by key): on the step's due date
(``flask questionnaires send-plan-steps``, hourly from cron, once a day per
clinic) the patient gets the link; the task waits and is done when the
response is submitted. A link not answered leaves the task on the
workbench as any overdue task; a key that names no published questionnaire
sends nothing and leaves the task to a person."""
from datetime import date

from sqlalchemy import select

from app.core import clock, events
from app.followups import services as followups
from app.patients import services as patients
from app.questionnaires import delivery, library
from app.questionnaires.signals import response_submitted
from tenants.db import db

Task, Plan = followups.FollowupTask, followups.FollowupPlan  # read here; followups writes them


def send_due(day: date | None = None) -> int:
    """Send the questionnaires of steps due by ``day`` (default the clinic's today) and not sent yet;
    the caller commits. Returns how many were sent."""
    rows = db.session.execute(
        select(Task, Plan.questionnaire_key).join(Plan, Plan.id == Task.plan_id)
        .where(Task.status == "pending", Task.channel == "form", Task.sent_at.is_(None),
               Task.due_date <= (day or clock.today()))
        .order_by(Task.due_date, Task.id)).all()
    people = patients.get_many(task.patient_id for task, _key in rows)
    sent = 0
    for task, key in rows:
        questionnaire = library.by_key(key) if key else None
        patient = people.get(task.patient_id)
        if questionnaire is None or not questionnaire.current_version or patient is None or patient.archived_at:
            continue
        delivery.send(questionnaire, [patient], actor_id=None, context={"task_id": task.id})
        task.sent_at = clock.utcnow()
        sent += 1
    return sent


def _submitted(_tenant_id: int, *, context: dict, patient_id: int, **_signal) -> None:
    task_id = (context or {}).get("task_id")
    if task_id:
        followups.complete_form_step(task_id, patient_id)


def listen() -> None:
    events.connect(response_submitted, _submitted)
