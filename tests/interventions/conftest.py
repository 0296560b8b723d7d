from datetime import date, timedelta

import pytest

from tests.notifications.conftest import as_tenant  # noqa: F401  (shared fixture)
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)

MOBILE = "13912345678"


@pytest.fixture
def advised(app, make_tenant, make_patient):
    """A man of 60 with a measured height, weight (BMI 27.7) and waist, who smokes, and an IPAQ
    response of 3 days × 30 minutes moderate activity; his risk assessments are current."""
    from app.core import clock
    from app.patients import services as patients
    from app.questionnaires import library, responses, submission
    from app.records import services as records
    from app.risk import services as risk_services
    from app.tagging import services as tagging
    from tenants.context import tenant_context
    from tenants.db import db

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.id):
        born = date(clock.today().year - 60, 3, 1)
    person = make_patient(tenant, name="王建国", sex="M", birth_date=born, mobile=MOBILE)
    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(person.id)
        patients.set_lifestyle(patient, smoking="current", alcohol="none", exercise="")
        when = clock.utcnow() - timedelta(days=10)
        records.store_many(patient, [records.Value(records.indicator_by_code(code), text, unit, when)
                                     for code, text, unit in (("8302-2", "170", "cm"), ("29463-7", "80", "kg"),
                                                              ("8280-0", "92", "cm"))], origin="manual")
        records.derive(patient, when)  # BMI 27.7
        ipaq = library.by_key("ipaq_short")
        response = responses.request(ipaq, patient, channel="staff")
        submission.submit(response, patient, {"vig_days": "0", "mod_days": "3", "mod_minutes": "30",
                                              "walk_days": "0", "sit_minutes": "300"})
        risk_services.recompute([person.id])
        tagging.evaluate_patient(person.id)
        db.session.commit()
    return tenant, person
