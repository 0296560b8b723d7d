"""The day-before reminder, for every clinic (RQ entry point and CLI)."""
from datetime import timedelta

from tenants.context import tenant_context
from tenants.db import db


def remind_tenant(tenant_id: int, now=None) -> int:
    """Remind every patient booked for tomorrow (clinic time); idempotent."""
    from app.booking import availability, notices, orders
    from app.booking.models import ExamPackage

    with tenant_context(tenant_id):
        rules = availability.settings()
        tomorrow = availability.local_now(rules, now).date() + timedelta(days=1)
        count = 0
        for order in orders.due_on(tomorrow):
            package = db.session.get(ExamPackage, (order.tenant_id, order.package_id))
            notices.reminder(order, package)
            count += 1
        db.session.commit()
    return count


def remind_all(now=None) -> dict[str, int]:
    from tenants.services import list_tenants

    tenants = [(t.id, t.slug) for t in list_tenants() if t.active]
    db.session.rollback()
    return {slug: remind_tenant(tenant_id, now) for tenant_id, slug in tenants}
