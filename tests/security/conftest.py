"""Fixtures for the security tests: audit rows, staff ids, copying a
session cookie to another browser, and the loopback mail server."""
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.notifications.conftest import as_tenant, drain, mail  # noqa: F401  (shared fixtures)


@pytest.fixture
def audit_rows(app):
    """audit_rows(tenant, action=None) -> the clinic's audit events, oldest first."""
    from app.core.audit import AuditEvent
    from tenants.context import tenant_context
    from tenants.db import db

    def read(tenant, action: str | None = None):
        with app.app_context(), tenant_context(tenant.id):
            query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
            if action:
                query = query.where(AuditEvent.action == action)
            return [SimpleNamespace(action=e.action, actor_id=e.actor_id, patient_id=e.patient_id,
                                    detail=dict(e.detail or {})) for e in db.session.scalars(query)]

    return read


@pytest.fixture
def staff_row(app):
    """staff_row(tenant, email) -> (id, role, active) of a staff account."""
    from app.auth.models import StaffUser
    from tenants.context import tenant_context
    from tenants.db import db

    def read(tenant, email: str):
        with app.app_context(), tenant_context(tenant.id):
            user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
            return SimpleNamespace(id=user.id, role=user.role, active=user.active)

    return read


@pytest.fixture
def copy_cookie(client_for):
    """copy_cookie(client, tenant) -> a new client (another browser) holding a
    copy of ``client``'s session cookie as it is now."""

    def copy(client, tenant):
        cookie = client.get_cookie("session", domain=tenant.host)
        assert cookie is not None, "no session cookie to copy"
        other = client_for(tenant)
        other.set_cookie("session", cookie.value, domain=tenant.host)
        return other

    return copy
