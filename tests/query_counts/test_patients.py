"""The patient list runs as many statements for 200 patients as for 20."""
import pytest

from tests.query_counts.conftest import add_patients

pytestmark = pytest.mark.postgres


def test_patient_list(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)
    same_count(client, "/patients", lambda n: add_patients(app, tenant, n), shows="测试")
    same_count(client, "/patients?q=测试", lambda n: add_patients(app, tenant, n), shows="测试")
