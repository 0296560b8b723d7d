"""The daily digest: each person with follow-up tasks due today or overdue gets
one message (in-app and email) through the notification outbox."""
from collections import Counter
from datetime import date

from sqlalchemy import select

from app.auth import services as staff
from app.clinic import services as clinic_profile
from app.core.urls import clinic_url
from app.followups import plans
from app.followups.models import FollowupTask
from app.notifications import services as notifications
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant


def send_tenant(day: date | None = None) -> int:
    """Queue today's digests for the current clinic (the caller commits); idempotent per person and day."""
    day = day or plans.today()
    rows = db.session.execute(select(FollowupTask.assignee_id, FollowupTask.due_date).where(
        FollowupTask.status == "pending", FollowupTask.assignee_id.is_not(None), FollowupTask.due_date <= day))
    due: Counter[int] = Counter()
    overdue: Counter[int] = Counter()
    for assignee_id, due_date in rows:
        (due if due_date == day else overdue)[assignee_id] += 1
    tenant = db.session.get_one(Tenant, require_tenant_id())
    url, clinic_name = clinic_url(tenant.slug, "followups.workbench"), clinic_profile.name()
    sent = 0
    people = staff.get_many(set(due) | set(overdue))
    for person in sorted((p for p in people.values() if p.active), key=lambda p: p.id):
        variables = {"staff_name": person.name, "due": due[person.id], "overdue": overdue[person.id],
                     "clinic": clinic_name, "url": url}
        notifications.notify("followup_digest", notifications.staff_recipient(person), variables,
                             idempotency_key=f"followup-digest:{person.id}:{day.isoformat()}",
                             channels=("inapp", "email"), channel_by_channel=True)  # a bad address costs one
        sent += 1
    return sent
