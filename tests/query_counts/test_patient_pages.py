"""One patient's pages run as many statements for 200 of their rows (results,
responses, tasks) as for 20; so do the staff list, the waiting reports and
the clinic dashboard."""
import secrets
from datetime import timedelta

import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.query_counts.conftest import add_alerts, add_patients, add_results, clinic_now
from tests.query_counts.test_questionnaires import _scored

pytestmark = pytest.mark.postgres
VISIT = [("8480-6", "148", "mm[Hg]"), ("8462-4", "96", "mm[Hg]"), ("29463-7", "70.5", "kg"),
         ("14771-0", "7.6", "mmol/L"), ("14647-2", "5.1", "mmol/L")]


@pytest.fixture
def one_patient(app, make_tenant, client_for):
    tenant = make_tenant()
    patient_id = add_patients(app, tenant, 1)[0]
    return tenant, patient_id, client_for(tenant, tenant.owner_email)


def test_patient_list_with_tags(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)
    # a blood pressure this high tags the patient (the pack's rules): every row has tags to show
    same_count(client, "/patients", lambda n: add_alerts(app, tenant, n), shows="badge")


def test_patient_records(app, one_patient, same_count):
    tenant, patient_id, owner = one_patient
    visits = [0]

    def seed(n: int) -> None:  # five results a visit, a visit a week back in time
        for _ in range(n // len(VISIT)):
            add_results(app, tenant, [patient_id], VISIT, days_apart=7 * visits[0])
            visits[0] += 1

    same_count(owner, f"/patients/{patient_id}/records", seed, shows="148")
    same_count(owner, f"/patients/{patient_id}", lambda n: seed(n))


def test_patient_questionnaires(app, one_patient, same_count):
    from app.questionnaires.models import QuestionnaireResponse

    tenant, patient_id, owner = one_patient

    def seed(n: int) -> None:
        with app.app_context(), tenant_context(tenant.id):
            questionnaire, version = _scored()
            specs = [s for s in version.definition.get("scores", []) if s.get("bands")]
            for i in range(n):
                at = clinic_now() - timedelta(days=i)
                db.session.add(QuestionnaireResponse(
                    questionnaire_id=questionnaire.id, version_id=version.id, patient_id=patient_id,
                    status="submitted", channel="staff", answers={}, flags=[], context={}, requested_at=at,
                    submitted_at=at, scores=[{"key": s["key"], "value": i % 10, "band": s["bands"][0]["key"]}
                                             for s in specs]))
            db.session.commit()

    same_count(owner, f"/patients/{patient_id}/questionnaires", seed)


def test_patient_tasks(app, one_patient, make_staff, same_count):
    from app.core import clock
    from app.followups import services as followups

    tenant, patient_id, owner = one_patient
    manager = make_staff(tenant, "health_manager")

    def seed(n: int) -> None:
        with app.app_context(), tenant_context(tenant.id):
            for i in range(n):
                followups.add_task(patient_id, assignee_id=manager.id, due_date=clock.today() + timedelta(days=i - 10))
            db.session.commit()

    same_count(owner, f"/patients/{patient_id}/followups", seed)


def test_staff_list(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)

    def seed(n: int) -> None:  # one password hash for all: hashing is slow on purpose
        from app.auth import services as staff

        with app.app_context(), tenant_context(tenant.id):
            hashed = staff.hash_password("correct-horse-battery")
            db.session.add_all([staff.StaffUser(email=f"s{secrets.token_hex(4)}@{tenant.slug}.test",
                                                name=f"front_desk user {i}", password_hash=hashed,
                                                role=("doctor", "health_manager", "front_desk")[i % 3])
                                for i in range(n)])
            db.session.commit()

    same_count(owner, "/staff", seed, shows="front_desk user")


def test_waiting_reports(app, make_tenant, client_for, same_count):
    from app.records.models import ExamReport

    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)

    def seed(n: int) -> None:
        with app.app_context(), tenant_context(tenant.id):
            db.session.add_all([ExamReport(source="hl7", source_key=secrets.token_hex(8), sender="检验科",
                                           title=f"体检报告{i}", status="unmatched", pending={}, patient_hint="王某")
                                for i in range(n)])
            db.session.commit()

    same_count(owner, "/records/unmatched", seed, shows="体检报告")


def test_clinic_dashboard(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    same_count(owner, "/", lambda n: add_alerts(app, tenant, n))
