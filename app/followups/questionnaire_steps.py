"""A plan step that asks the patient to fill a questionnaire: on its due
date (``flask followups send-questionnaires``, hourly from cron, once a day
per clinic) the patient gets the link; the task waits and is done when the
response is submitted (the questionnaire-submitted signal). A link that is
not answered leaves the task on the workbench as any overdue task."""
from datetime import date

from sqlalchemy import select

from app.core import clock, events
from app.followups import plans, services
from app.followups.models import FollowupPlan, FollowupRecord, FollowupTask
from app.patients import services as patients
from app.questionnaires import services as questionnaires
from tenants.db import db


def send_due(day: date | None = None) -> int:
    """Send the questionnaires of steps due by ``day`` (default today) not sent yet; the caller commits."""
    rows = db.session.execute(
        select(FollowupTask, FollowupPlan.questionnaire_key).join(FollowupPlan, FollowupPlan.id == FollowupTask.plan_id)
        .where(FollowupTask.status == "pending", FollowupTask.channel == "form",
               FollowupTask.sent_at.is_(None), FollowupTask.due_date <= (day or plans.today()))
        .order_by(FollowupTask.due_date, FollowupTask.id)).all()
    people = patients.get_many(task.patient_id for task, _key in rows)
    sent = 0
    for task, key in rows:
        questionnaire = questionnaires.by_key(key) if key else None
        patient = people.get(task.patient_id)
        if questionnaire is None or not questionnaire.current_version or patient is None or patient.archived_at:
            continue  # the plan's questionnaire is gone: the task stays for a person to handle
        questionnaires.send(questionnaire, [patient], actor_id=None, context={"task_id": task.id})
        task.sent_at = clock.utcnow()
        sent += 1
    return sent


def _submitted(_tenant_id: int, *, context: dict, patient_id: int, **_signal) -> None:
    task_id = (context or {}).get("task_id")
    if not task_id:
        return
    task = db.session.scalar(select(FollowupTask).where(FollowupTask.id == task_id,
                                                        FollowupTask.patient_id == patient_id))
    if task is None or task.status != "pending":
        return
    db.session.add(FollowupRecord(task_id=task.id, patient_id=patient_id, staff_id=None, result="reached",
                                  notes="", measures={}, next_date=None))
    task.status, task.completed_at = "done", clock.utcnow()
    db.session.flush()
    services.complete_enrolment_if_done(task)


def listen() -> None:
    events.connect(questionnaires.response_submitted, _submitted)
