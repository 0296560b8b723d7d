"""The alert list, the doctor's home page and the portal's results run as
many statements for 200 rows as for 20."""
import pytest

from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)
from tests.query_counts.conftest import add_alerts, add_patients, add_results

pytestmark = pytest.mark.postgres


def test_alert_list(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    owner = client_for(tenant, tenant.owner_email)
    same_count(owner, "/alerts", lambda n: add_alerts(app, tenant, n, responsible_doctor_id=doctor.id), shows="测试")


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

    same_count(client, "/portal/results", seed, shows="128")
