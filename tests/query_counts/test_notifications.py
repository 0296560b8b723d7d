"""The outbox and a staff member's inbox run as many statements for 200
messages as for 20."""
import secrets

import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.query_counts.conftest import add_patients

pytestmark = pytest.mark.postgres


def add_messages(app, tenant, n: int, *, staff_id: int | None = None) -> None:
    """n outbox rows in one INSERT: to n new patients by SMS, or in-app to one staff member."""
    from app.notifications.models import Notification

    patient_ids = add_patients(app, tenant, n) if staff_id is None else []
    with app.app_context(), tenant_context(tenant.id):
        rows = []
        for i in range(n):
            to_patient = staff_id is None
            rows.append(Notification(
                idempotency_key=f"qc:{secrets.token_hex(8)}", recipient_type="patient" if to_patient else "staff",
                recipient_id=patient_ids[i] if to_patient else staff_id, channel="sms" if to_patient else "inapp",
                address_masked="138****0000" if to_patient else "", template_key="result_ready" if to_patient
                else "alert_raised", locale="zh_CN", category="service", subject=f"消息 {i}", body_text=f"正文 {i}",
                status=("sent", "pending", "failed")[i % 3] if to_patient else "sent"))
        db.session.add_all(rows)
        db.session.commit()


def test_outbox(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    same_count(owner, "/notifications", lambda n: add_messages(app, tenant, n), shows="138****0000")


def test_outbox_patients_and_staff(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    owner = client_for(tenant, tenant.owner_email)

    def seed(n: int) -> None:
        add_messages(app, tenant, n - n // 2)
        add_messages(app, tenant, n // 2, staff_id=doctor.id)

    same_count(owner, "/notifications", seed, shows="138****0000")


def test_inbox(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)
    same_count(client, "/inbox", lambda n: add_messages(app, tenant, n, staff_id=doctor.id), shows="消息")
