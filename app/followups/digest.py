"""The daily digest: each person with follow-up tasks due today or overdue gets
one message (in-app and email) through the notification outbox."""
import logging
from collections import Counter
from datetime import date

from flask import current_app, url_for
from sqlalchemy import select

from app.followups import plans
from app.followups.models import FollowupTask
from tenants.context import require_tenant_id, tenant_context
from tenants.db import db
from tenants.models import Tenant

log = logging.getLogger(__name__)


def _workbench_url(tenant: Tenant) -> str:
    config = current_app.config
    port = config.get("PUBLIC_PORT")
    host = f"{tenant.slug}.{config['BASE_DOMAIN']}" + (f":{port}" if port else "")
    with current_app.test_request_context(base_url=f"{config.get('PREFERRED_URL_SCHEME', 'https')}://{host}"):
        return url_for("followups.workbench", _external=True)


def send_tenant(day: date | None = None) -> int:
    """Queue today's digests for the current clinic (the caller commits); idempotent per person and day."""
    from app.auth.models import StaffUser
    from app.notifications import services as notifications

    day = day or plans.today()
    rows = db.session.execute(select(FollowupTask.assignee_id, FollowupTask.due_date).where(
        FollowupTask.status == "pending", FollowupTask.assignee_id.is_not(None), FollowupTask.due_date <= day))
    due, overdue = Counter(), Counter()
    for assignee_id, due_date in rows:
        (due if due_date == day else overdue)[assignee_id] += 1
    tenant = db.session.get(Tenant, require_tenant_id())
    url = _workbench_url(tenant)
    sent = 0
    for person in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(set(due) | set(overdue)),
                                                             StaffUser.active.is_(True))):
        variables = {"staff_name": person.name, "due": due[person.id], "overdue": overdue[person.id],
                     "clinic": tenant.name, "url": url}
        for channel in ("inapp", "email"):  # a bad email address must not cost the in-app digest
            try:
                notifications.notify("followup_digest", notifications.staff_recipient(person), variables,
                                     idempotency_key=f"followup-digest:{person.id}:{day.isoformat()}",
                                     channels=(channel,))
            except notifications.NotifyError as exc:
                log.warning("no %s digest for staff %s: %s", channel, person.id, exc)
        sent += 1
    return sent


def send_all(day: date | None = None) -> dict[str, int]:
    from tenants.services import list_tenants

    tenants = [(t.id, t.slug) for t in list_tenants() if t.active]
    db.session.rollback()
    totals = {}
    for tenant_id, slug in tenants:
        with tenant_context(tenant_id):
            totals[slug] = send_tenant(day)
            db.session.commit()
    return totals
