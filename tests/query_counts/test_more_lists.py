"""Further lists: exam packages (staff and shop), follow-up plans and a
patient's messages in the portal run as many statements for 200 rows as for 20."""
import secrets

import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.booking.conftest import make_package  # noqa: F401  (shared fixture)
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)
from tests.query_counts.conftest import add_patients

pytestmark = pytest.mark.postgres


def test_packages_staff_and_shop(app, make_tenant, make_package, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    anyone = client_for(tenant)
    made = [0]

    def seed(n: int) -> None:
        for _ in range(n):
            make_package(tenant, name=f"体检套餐{made[0]:04d}", sex=("", "F", "M")[made[0] % 3])
            made[0] += 1

    same_count(owner, "/booking/admin/packages", seed, shows="体检套餐")
    same_count(anyone, "/shop", seed, shows="体检套餐")


def test_shop_for_a_signed_in_patient(app, make_tenant, make_package, patient_client, make_patient, same_count):
    tenant = make_tenant()
    mobile = "13912345679"
    make_patient(tenant, mobile=mobile, sex="F")
    client = patient_client(tenant, mobile)
    made = [0]

    def seed(n: int) -> None:  # a third of them for men only: listed as not bookable, with the reason
        for _ in range(n):
            make_package(tenant, name=f"体检套餐{made[0]:04d}", sex=("", "F", "M")[made[0] % 3])
            made[0] += 1

    same_count(client, "/shop", seed, shows="体检套餐")


def test_follow_up_plans(app, make_tenant, client_for, same_count):
    from app.followups.models import FollowupPlan

    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)

    def seed(n: int) -> None:
        with app.app_context(), tenant_context(tenant.id):
            db.session.add_all([FollowupPlan(name=f"随访计划{secrets.token_hex(3)}", trigger="booking_completed",
                                             schedule="days", offsets=[7, 30], channel="phone", active=bool(i % 2))
                                for i in range(n)])
            db.session.commit()

    same_count(owner, "/followups/plans", seed, shows="随访计划")


def test_portal_messages(app, make_tenant, make_patient, patient_client, same_count):
    from app.notifications.models import Notification
    from app.notifications.patient_inbox import CATEGORIES

    tenant = make_tenant()
    mobile = "13912345670"
    me = make_patient(tenant, mobile=mobile)
    add_patients(app, tenant, 1)
    client = patient_client(tenant, mobile)
    category = sorted(CATEGORIES)[0]

    def seed(n: int) -> None:
        with app.app_context(), tenant_context(tenant.id):
            db.session.add_all([Notification(
                idempotency_key=f"qc:{secrets.token_hex(8)}", recipient_type="patient", recipient_id=me.id,
                channel=("sms", "inapp")[i % 2], address_masked="139****5670", template_key="result_ready",
                locale="zh_CN", category=category, subject=f"您的消息{i}", body_text=f"消息正文{i}", status="sent")
                for i in range(n)])
            db.session.commit()

    same_count(client, "/portal/messages", seed, shows="消息正文")
