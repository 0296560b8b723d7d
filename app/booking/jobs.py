"""The day-before reminder, for every clinic (RQ entry point and CLI)."""
from datetime import timedelta

from app.booking import availability, notices, orders
from app.booking.models import ExamPackage
from tenants.context import require_tenant_id, tenant_context
from tenants.db import db
from tenants.services import EveryClinic, for_each_active_tenant


def remind_tenant(tenant_id: int, now=None) -> int:
    """Remind every patient booked for tomorrow (clinic time); idempotent."""

    with tenant_context(tenant_id):
        tomorrow = availability.local_now(now).date() + timedelta(days=1)
        count = 0
        for order in orders.due_on(tomorrow):
            package = db.session.get(ExamPackage, (order.tenant_id, order.package_id))
            notices.reminder(order, package)
            count += 1
        db.session.commit()
    return count


def remind_all(now=None) -> EveryClinic:
    return for_each_active_tenant(lambda: remind_tenant(require_tenant_id(), now))
