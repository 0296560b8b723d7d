"""The alert list, the doctor's home page and the portal's results run as
many statements for 200 rows as for 20."""
import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)
from tests.query_counts.conftest import add_alerts, add_patients, add_results
from tests.releasing import release_all

pytestmark = pytest.mark.postgres


def test_alert_list(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)
    same_count(client, "/alerts", lambda n: add_alerts(app, tenant, n, responsible_doctor_id=doctor.id), shows="测试")


def test_doctor_home(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)
    same_count(client, "/", lambda n: add_alerts(app, tenant, n, responsible_doctor_id=doctor.id), shows="测试")


def test_portal_results(app, make_tenant, make_patient, client_for, same_count, patient_client):
    tenant = make_tenant()
    mobile = "13912345678"
    me = make_patient(tenant, mobile=mobile)
    add_patients(app, tenant, 1)  # someone else
    client = patient_client(tenant, mobile)
    stored = [0]

    def seed(n: int) -> None:  # n results: five indicators a visit, one visit a week back in time
        for _ in range(n // 5):
            add_results(app, tenant, [me.id], [("8480-6", "128", "mm[Hg]"), ("8462-4", "82", "mm[Hg]"),
                                               ("29463-7", "70.5", "kg"), ("14771-0", "5.6", "mmol/L"),
                                               ("14647-2", "5.1", "mmol/L")], days_apart=7 * stored[0])
            stored[0] += 1
        release_all(app, tenant, me.id)

    same_count(client, "/portal/results", seed, shows="128")


def test_alert_list_all_statuses_and_doctors(app, make_tenant, make_staff, client_for, same_count):
    from app.records import services as records

    tenant = make_tenant()
    doctors = [make_staff(tenant, "doctor") for _ in range(2)]
    owner = client_for(tenant, tenant.owner_email)

    def seed(n: int) -> None:  # two doctors' alerts, every other one acknowledged by the other doctor
        ids = add_alerts(app, tenant, n // 2, responsible_doctor_id=doctors[0].id)
        ids += add_alerts(app, tenant, n - n // 2, responsible_doctor_id=doctors[1].id)
        with app.app_context(), tenant_context(tenant.id):
            for i, alert in enumerate(records.alerts.open_alerts(0, everyone=True, limit=1000)):
                if alert.patient_id in ids and i % 2:
                    records.alerts.acknowledge(alert, "已电话通知", doctors[i % 2].id, informed="patient",
                                               informed_name="本人")
            db.session.commit()

    same_count(owner, "/alerts?status=all&doctor=all", seed, shows="已电话通知")
