"""Messages about follow-up tasks, through the notification outbox:
the manager told of an escalated task, and patients reminded the day before
a call or visit of a plan that asks for it.

Each is written in the caller's transaction (sent after commit) under an
idempotency key, so a repeated save or a second run of the daily job sends
nothing twice. A person who cannot be reached does not stop the work.
"""
from datetime import date, timedelta

from sqlalchemy import select

from app.auth import services as staff
from app.clinic import services as clinic_profile
from app.core.urls import clinic_url
from app.followups import plans
from app.followups.models import REMINDED_CHANNELS, FollowupPlan, FollowupTask
from app.notifications import services as notifications
from app.patients import services as patients
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant

REMINDER_TEMPLATE = {"phone": "followup_reminder", "visit": "followup_visit_reminder"}


def escalated(task: FollowupTask) -> None:
    """Tell the manager a task reached its failed-contact limit (in-app and email)."""
    people = staff.get_many([task.escalated_to, task.assignee_id])
    manager = people.get(task.escalated_to) if task.escalated_to is not None else None
    if manager is None or not manager.active:
        return
    patient, tenant = patients.get(task.patient_id), db.session.get_one(Tenant, require_tenant_id())
    if patient is None:  # a task goes with its patient (ON DELETE CASCADE)
        raise LookupError(f"task {task.id}: patient {task.patient_id} not found")
    assignee = people.get(task.assignee_id) if task.assignee_id is not None else None
    variables = {"staff_name": manager.name, "patient_name": patient.name, "card_no": patient.card_no,
                 "assignee": assignee.name if assignee else "—", "attempts": task.failed_attempts,
                 "clinic": clinic_profile.name(),
                 "url": clinic_url(tenant.slug, "followups.task_detail", task_id=task.id)}
    notifications.notify("followup_escalated", notifications.staff_recipient(manager), variables,
                         idempotency_key=f"followup-escalated:{task.id}", channels=("inapp", "email"),
                         channel_by_channel=True)  # a bad email address must not cost the in-app message


def remind_patients(day: date | None = None) -> int:
    """Queue reminders for the current clinic's calls and visits due the day
    after ``day`` (default today), for plans that remind patients. The
    caller commits. Returns how many patients were reminded."""
    Patient = patients.Patient  # noqa: N806  (read in this query's joins)
    due = (day or plans.today()) + timedelta(days=1)
    rows = db.session.execute(
        select(FollowupTask, Patient).join(FollowupPlan, FollowupPlan.id == FollowupTask.plan_id)
        .join(Patient, Patient.id == FollowupTask.patient_id)
        .where(FollowupTask.status == "pending", FollowupTask.due_date == due,
               FollowupTask.channel.in_(REMINDED_CHANNELS), FollowupPlan.remind_patient.is_(True),
               Patient.archived_at.is_(None))
        .order_by(FollowupTask.patient_id, FollowupTask.id)).all()
    clinic = db.session.get_one(Tenant, require_tenant_id()).name
    assignees = staff.get_many(task.assignee_id for task, _patient in rows)
    reminded = set()
    for task, patient in rows:
        if (patient.id, task.channel) in reminded:  # two plans the same day: one message
            continue
        assignee = assignees.get(task.assignee_id)
        variables = {"patient_name": patient.name, "date": due.isoformat(), "clinic": clinic,
                     "staff_name": assignee.name if assignee else ""}
        sent = notifications.notify(REMINDER_TEMPLATE[task.channel], notifications.patient_recipient(patient),
                                    variables, idempotency_key=f"followup-reminder:{patient.id}:{task.channel}:{due}",
                                    channel_by_channel=True)  # one bad address costs one channel
        if sent:
            reminded.add((patient.id, task.channel))
    return len({patient_id for patient_id, _channel in reminded})
