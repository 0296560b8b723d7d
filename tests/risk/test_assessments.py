"""Assessments of real patients: inputs gathered with their provenance, too
old apart from never recorded, recomputed on the event path, kept as history
and stored as observations; the patient page section in zh and en."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.core import clock, txn
from app.patients import services as patients
from app.records import importer
from app.records import services as records
from app.records.models import Indicator, Observation
from app.records.parsed import ParsedReport, ParsedResult, PatientRef
from app.risk import assessments, reading
from app.risk.models import RiskAssessment
from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.time_sensitive  # ages and freshness count from the clinic's today


def _store(patient_id, values, when):
    patient = patients.get(patient_id)
    rows = [records.Value(records.indicator_by_code(code), text, unit, when) for code, text, unit in values]
    records.store_many(patient, rows, origin="manual")


def _current(patient_id, model):
    return db.session.scalar(select(RiskAssessment).where(RiskAssessment.patient_id == patient_id,
                                                          RiskAssessment.model == model, RiskAssessment.is_current))


def _rows(patient_id, model):
    return db.session.scalar(select(func.count()).select_from(RiskAssessment).where(
        RiskAssessment.patient_id == patient_id, RiskAssessment.model == model))


@pytest.fixture
def assessed(app, make_tenant, make_patient):
    """A man born in 1970 who smokes, with diabetes and blood-pressure medication in his history, and a
    cholesterol and blood-pressure check a month ago."""
    tenant = make_tenant()
    person = make_patient(tenant, sex="M", birth_date=date(1970, 1, 15))
    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(person.id)
        patients.add_history(patient, kind="illness", description="2 型糖尿病", since_year=2015)
        patients.add_history(patient, kind="medication", description="氨氯地平 5mg 每日一次", since_year=2018)
        patients.set_lifestyle(patient, smoking="current", alcohol="", exercise="")
        month_ago = clock.utcnow() - timedelta(days=30)
        _store(person.id, [("14647-2", "6.2", "mmol/L"), ("14646-4", "1.1", "mmol/L"), ("8480-6", "150", "mm[Hg]")],
               month_ago)
        db.session.commit()
    return tenant, person


def test_inputs_come_with_where_they_came_from(app, assessed):
    tenant, person = assessed
    with app.app_context(), tenant_context(tenant.id):
        row = _current(person.id, "framingham_cvd")
        assert row.status == "ok" and row.band == "high" and row.value > 20
        inputs = row.inputs
        age = clock.age(date(1970, 1, 15), clock.today())  # 56 on the default test day; more at later instants
        assert inputs["age"] == {"value": age, "kind": "card", "source_id": person.id, "date": None}
        assert inputs["systolic_bp"]["kind"] == "observation" and inputs["systolic_bp"]["value"] == 150
        systolic = db.session.get(Observation, (tenant.id, inputs["systolic_bp"]["source_id"]))
        assert inputs["systolic_bp"]["date"] == clock.local_date(systolic.observed_at).isoformat()
        assert inputs["diabetes"]["kind"] == "history" and inputs["diabetes"]["value"] is True
        assert inputs["bp_treated"]["value"] is True and inputs["smoker"]["value"] is True
        assert row.missing == [] and row.contributions["age"] > 0
        assert {w["input"] for w in row.what_if} == {"systolic_bp", "total_cholesterol", "smoker"}
        lower = next(w for w in row.what_if if w["input"] == "systolic_bp")
        assert lower["target"] == 120 and lower["value"] < row.value


def test_an_old_value_is_too_old_and_a_never_recorded_one_is_missing(app, make_tenant, make_patient):
    tenant = make_tenant()
    person = make_patient(tenant, sex="F", birth_date=date(1975, 3, 1))
    with app.app_context(), tenant_context(tenant.id):
        _store(person.id, [("39156-5", "26.1", "kg/m2")], clock.utcnow() - timedelta(days=400))
        _store(person.id, [("8480-6", "128", "mm[Hg]")], clock.utcnow() - timedelta(days=10))
        db.session.commit()
        row = _current(person.id, "chinese_diabetes_risk")
        assert row.status == "missing" and row.value is None
        why = {gap["input"]: gap for gap in row.missing}
        assert why["bmi"]["why"] == "too_old" and why["bmi"]["max_age_days"] == 365
        assert why["waist"] == {"input": "waist", "why": "never"}
        assert why["family_diabetes"]["why"] == "never"  # no history taken: not guessed as "no"
        assert "systolic_bp" in row.inputs and "bmi" not in row.inputs


def test_a_new_import_recomputes_and_keeps_the_history(app, assessed):
    tenant, person = assessed
    with app.app_context(), tenant_context(tenant.id):
        before, count = _current(person.id, "framingham_cvd"), _rows(person.id, "framingham_cvd")
        parsed = ParsedReport(source="hl7", source_key="r-risk", label="message r-risk",
                              patient=PatientRef(card_no=person.card_no),
                              observed_at=clock.utcnow() - timedelta(days=1),
                              results=[ParsedResult(code="8480-6", code_system="loinc", value_text="118",
                                                    unit="mm[Hg]", flag="", status="final", position="OBX 1")],
                              sender="Lab A")
        summary = importer.import_parsed([parsed])
        db.session.commit()
        assert summary.imported == 1
        after = _current(person.id, "framingham_cvd")
        assert after.id != before.id and after.value < before.value and after.inputs["systolic_bp"]["value"] == 118
        assert _rows(person.id, "framingham_cvd") == count + 1
        history = reading.history_for(person.id, "framingham_cvd")
        assert [r.id for r in history[-2:]] == [before.id, after.id] and not history[-2].is_current


def test_nothing_changed_adds_no_row(app, assessed):
    tenant, person = assessed
    with app.app_context(), tenant_context(tenant.id):
        count = db.session.scalar(select(func.count()).select_from(RiskAssessment))
        assert assessments.recompute([person.id]) == 0
        patients.set_lifestyle(patients.get(person.id), smoking="current", alcohol="occasional", exercise="")
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(RiskAssessment)) == count


def test_an_ok_result_is_stored_as_an_observation(app, assessed):
    tenant, person = assessed
    with app.app_context(), tenant_context(tenant.id):
        row = _current(person.id, "framingham_cvd")
        stored = db.session.execute(
            select(Observation, Indicator.code).join(Indicator, Indicator.id == Observation.indicator_id)
            .where(Observation.patient_id == person.id, Indicator.code == "careloop-risk-framingham_cvd",
                   Observation.superseded_by.is_(None))).all()
        assert len(stored) == 1
        observation, _code = stored[0]
        assert observation.value == pytest.approx(row.value, abs=0.05) and observation.origin == "risk"
        assert "careloop-risk-framingham_cvd" in assessments.own_codes()


def test_the_clinic_wide_recompute_assesses_every_card(app, make_tenant, make_patient):
    tenant = make_tenant()
    people = [make_patient(tenant) for _ in range(3)]
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(RiskAssessment.__table__.delete().where(RiskAssessment.tenant_id == tenant.id))
        db.session.commit()
        count, added = assessments.recompute_clinic(batch=2)
        assert count == 3 and added == 3 * len(reading.all_models())
        assert assessments.recompute_clinic()[1] == 0
        assert {r.patient_id for r in db.session.scalars(select(RiskAssessment))} == {p.id for p in people}


def test_the_page_in_chinese_and_english(assessed, make_tenant, client_for):
    tenant, person = assessed
    client = client_for(tenant, tenant.owner_email)
    page = client.get(f"/patients/{person.id}/risk").get_data(as_text=True)
    assert "风险评估" in page and "Framingham" in page and "高危" in page
    assert "收缩压降至 120 mmHg：" in page and "（现为 " in page
    assert "需要：腰围（从未记录）" in page
    assert "健康史" in page and f"/patients/{person.id}/risk/framingham_cvd" in page
    history = client.get(f"/patients/{person.id}/risk/framingham_cvd")
    assert history.status_code == 200 and "<svg" in history.get_data(as_text=True)
    assert client.get(f"/patients/{person.id}/risk/no_such_model").status_code == 404
    client.submit("/lang/en")
    page = client.get(f"/patients/{person.id}/risk").get_data(as_text=True)
    assert "Risk assessment" in page and "Systolic pressure down to 120 mmHg:" in page and "(now " in page
    assert "Needed: Waist (never recorded)" in page


def test_another_clinics_patient_is_not_found(assessed, make_tenant, client_for):
    _tenant, person = assessed
    other = make_tenant()
    client = client_for(other, other.owner_email)
    assert client.get(f"/patients/{person.id}/risk").status_code == 404
    assert client.get(f"/patients/{person.id}/risk/framingham_cvd").status_code == 404


def test_the_results_the_models_store_do_not_recompute_again(app, assessed):
    tenant, person = assessed
    with app.app_context(), tenant_context(tenant.id):
        when = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
        with assessments.storing_own():
            _store(person.id, [("8480-6", "119", "mm[Hg]")], when)
        assert ("before", "risk:recompute") not in txn.pending()
        _store(person.id, [("8480-6", "117", "mm[Hg]")], when + timedelta(hours=1))
        assert ("before", "risk:recompute") in txn.pending()
        db.session.rollback()


def test_questionnaire_answers_are_inputs_with_their_response(app, make_tenant, make_patient):
    from app.questionnaires import library, responses, submission

    tenant = make_tenant()
    person = make_patient(tenant, sex="F", birth_date=date(1966, 8, 1))
    with app.app_context(), tenant_context(tenant.id):
        _store(person.id, [("39156-5", "27.0", "kg/m2"), ("8280-0", "86", "cm")], clock.utcnow() - timedelta(days=3))
        patient = patients.get(person.id)
        response = responses.request(library.by_key("findrisc"), patient, channel="desk")
        submission.submit(response, patient, {
            "age": "55_64", "bmi": "25_30", "sex": "F", "waist_f": "gt88", "activity": "no",
            "vegetables": "daily", "bp_medication": "yes", "high_glucose": "no", "family": "first_degree"})
        db.session.commit()
        row = _current(person.id, "findrisc")
        assert row.status == "ok", row.missing
        assert row.inputs["active_30min_daily"] == {"value": False, "kind": "answer", "source_id": response.id,
                                                    "date": clock.local_date(response.submitted_at).isoformat()}
        assert row.inputs["family_diabetes"]["value"] == "first_degree"
        assert row.inputs["bmi"]["kind"] == "observation"
        assert [w["input"] for w in row.what_if] == ["bmi", "active_30min_daily"]


def test_a_change_to_many_patients_is_assessed_by_a_job_after_it_commits(app, make_tenant, make_patient,
                                                                         monkeypatch):
    from rq import SimpleWorker

    from app.core import jobs
    from app.risk import listeners

    tenant = make_tenant()
    people = [make_patient(tenant, sex="M", birth_date=date(1970, 1, 15)) for _ in range(3)]
    monkeypatch.setattr(listeners, "IN_TRANSACTION_LIMIT", 2)
    with app.app_context():
        jobs.queue("default").empty()
    with app.app_context(), tenant_context(tenant.id):
        for person in people:
            _store(person.id, [("8480-6", "150", "mm[Hg]"), ("8462-4", "95", "mm[Hg]")], clock.utcnow())
        db.session.commit()
        assert {_current(p.id, "bp_grade").status for p in people} == {"missing"}  # as the cards were opened
    with app.app_context():
        SimpleWorker([jobs.queue("default")], connection=jobs.redis_connection()).work(burst=True)
    with app.app_context(), tenant_context(tenant.id):
        assert {(_current(p.id, "bp_grade").status, _current(p.id, "bp_grade").band) for p in people} \
            == {("ok", "grade_1")}
