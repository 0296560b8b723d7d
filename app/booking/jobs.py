"""The day-before reminder, for every clinic (RQ entry point and CLI)."""
from datetime import timedelta

from app.booking import availability, notices, orders
from app.booking.models import ExamPackage
from tenants.context import tenant_context
from tenants.db import db


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
