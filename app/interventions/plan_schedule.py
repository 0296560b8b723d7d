"""A plan's schedule: follow-up tasks for the responsible staff member (the
template's check-in days, each goal's date and the plan's end) through the
follow-ups, and reminders for the patient through the notification outbox (a
message that the plan started, then one a week while the plan has actions to
do). The messages carry no health content: they ask the patient to open the
portal. Quiet hours and daily caps are the notification policy's. Closing
the plan cancels what has not happened yet."""
from datetime import date, time, timedelta

from app.clinic import services as clinic_profile
from app.core import clock
from app.followups import services as followup_services
from app.interventions.plan_models import CarePlan
from app.notifications import services as notifications

REMIND_AT = time(9, 0)  # the clinic's morning; the policy moves it out of quiet hours
STARTED, WEEKLY = "care_plan_started", "care_plan_reminder"


def task_days(plan: CarePlan, checkin_days) -> list[date]:
    days = {plan.start_date + timedelta(days=int(d)) for d in checkin_days}
    days |= {date.fromisoformat(g["due"]) for g in plan.goals}
    days.add(plan.end_date)
    return sorted(d for d in days if plan.start_date < d <= plan.end_date)


def reminder_days(plan: CarePlan) -> list[date]:
    if not any(a.get("per_week", 0) > 0 for a in plan.actions):
        return []
    days, day = [], plan.start_date + timedelta(days=7)
    while day < plan.end_date:
        days.append(day)
        day += timedelta(days=7)
    return days


def schedule(plan: CarePlan, patient, checkin_days) -> None:
    """Make the plan's tasks and reminders; their ids are kept on the plan. The caller commits."""
    tasks = [followup_services.add_task(patient.id, assignee_id=plan.responsible_id, due_date=day, channel="phone")
             for day in task_days(plan, checkin_days)]
    recipient = notifications.patient_recipient(patient)
    variables = {"patient_name": patient.name, "clinic": clinic_profile.name()}
    rows = notifications.notify(STARTED, recipient, variables, idempotency_key=f"care-plan-started:{plan.id}",
                                channel_by_channel=True)
    for day in reminder_days(plan):
        rows += notifications.notify(WEEKLY, recipient, variables, at=clock.at(day, REMIND_AT),
                                     idempotency_key=f"care-plan-reminder:{plan.id}:{day.isoformat()}",
                                     channel_by_channel=True)
    plan.scheduled = {"tasks": [t.id for t in tasks], "notifications": [r.id for r in rows]}


def cancel(plan: CarePlan, reason: str) -> tuple[int, int]:
    """Cancel the plan's pending tasks and unsent reminders. The caller commits."""
    tasks = followup_services.cancel_tasks(plan.scheduled.get("tasks", []), reason)
    messages = 0
    for notification_id in plan.scheduled.get("notifications", []):
        row = notifications.get(notification_id)
        if row is not None and row.status == "pending" and row.template_key == WEEKLY and notifications.cancel(row):
            messages += 1
    return tasks, messages
