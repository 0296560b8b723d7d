"""A new result or a submitted questionnaire recomputes only the models that read it: results-stored
says the indicator codes, questionnaire-submitted the questionnaire."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core import clock, events, txn
from app.patients import services as patients
from app.records import services as records
from app.risk import assessments, listeners
from app.risk.definitions import all_models, models_reading
from app.risk.models import RiskAssessment
from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.time_sensitive

PHQ9_ANSWERS = {**{f"q{n}": "1" for n in range(1, 9)}, "q9": "0"}


def _store(patient_id, values, when):
    patient = patients.get(patient_id)
    rows = [records.Value(records.indicator_by_code(code), text, unit, when) for code, text, unit in values]
    return records.store_many(patient, rows, origin="manual")


def _gathered():
    """The (patient, models) the risk listener gathered in the open transaction."""
    work = next((w for w in db.session().info.get(txn._WORK, []) if w.key == "risk:recompute"), None)
    return [item[1:] for _owner, item in work.items] if work else []


NOT_BP = {"central_obesity", "ckd_albuminuria", "ckd_egfr_stage", "findrisc", "weight_status"}


def test_the_models_reading_a_code_or_a_questionnaire():
    diastolic = set(models_reading(codes=["8462-4"]))
    assert "bp_grade" in diastolic and not diastolic & NOT_BP
    systolic = set(models_reading(codes=["8480-6"]))
    assert {"bp_grade", "chinese_diabetes_risk", "framingham_cvd"} <= systolic and not systolic & NOT_BP
    body = set(models_reading(codes=["39156-5", "8280-0"]))
    assert {"central_obesity", "chinese_diabetes_risk", "findrisc", "weight_status"} <= body
    assert not body & {"bp_grade", "ckd_albuminuria", "ckd_egfr_stage", "framingham_cvd"}
    assert models_reading(codes=["8867-4"]) == []  # heart rate: no model reads it
    assert set(models_reading(questionnaire="findrisc")) == {"chinese_diabetes_risk", "findrisc"}
    assert models_reading(questionnaire="phq9") == []
    assert models_reading() == []


def test_results_stored_says_the_codes(app, make_tenant, make_patient):
    tenant = make_tenant()
    person = make_patient(tenant)
    sent = []

    def note(_tenant_id, **ids):
        sent.append(ids)

    records.results_stored.connect(note)
    try:
        with app.app_context(), tenant_context(tenant.id):
            _store(person.id, [("8480-6", "131", "mm[Hg]"), ("8462-4", "84", "mm[Hg]")], clock.utcnow())
            db.session.rollback()
    finally:
        records.results_stored.disconnect(note)
    assert sent == [{"patient_ids": [person.id], "codes": ["8462-4", "8480-6"]}]


def test_a_blood_pressure_recomputes_the_models_that_read_it(app, make_tenant, make_patient):
    tenant = make_tenant()
    person = make_patient(tenant, sex="M", birth_date=date(1970, 1, 15))
    with app.app_context(), tenant_context(tenant.id):
        assert {row.model for row in db.session.scalars(select(RiskAssessment))} == set(all_models())
        db.session.commit()
        _store(person.id, [("8462-4", "95", "mm[Hg]")], clock.utcnow() - timedelta(hours=1))
        assert _gathered() == [(person.id, frozenset(models_reading(codes=["8462-4"])))]
        _store(person.id, [("8480-6", "150", "mm[Hg]")], clock.utcnow() - timedelta(hours=1))
        before = {row.model: row.id for row in db.session.scalars(select(RiskAssessment)
                                                                  .where(RiskAssessment.is_current))}
        db.session.commit()
        after = {row.model: row.id for row in db.session.scalars(select(RiskAssessment)
                                                                 .where(RiskAssessment.is_current))}
        changed = {model for model in after if after[model] != before[model]}
        assert {"bp_grade", "chinese_diabetes_risk", "framingham_cvd"} <= changed  # their inputs changed
        assert changed <= set(models_reading(codes=["8462-4", "8480-6"]))  # the others kept their rows
        assert db.session.scalar(select(RiskAssessment).where(
            RiskAssessment.model == "bp_grade", RiskAssessment.is_current)).status == "ok"


def test_a_result_no_model_reads_gives_no_risk_work(app, make_tenant, make_patient):
    tenant = make_tenant()
    person = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        db.session.commit()
        _store(person.id, [("8867-4", "72", "/min")], clock.utcnow())
        assert ("before", "risk:recompute") not in txn.pending()
        db.session.rollback()


def test_a_signal_without_codes_recomputes_every_model(app, make_tenant, make_patient):
    tenant = make_tenant()
    person = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        db.session.commit()
        events.send(records.results_stored, patient_ids=[person.id])
        assert _gathered() == [(person.id, None)]
        db.session.rollback()


def test_a_phq9_gives_no_risk_work_and_a_findrisc_its_models(app, make_tenant, make_patient, monkeypatch):
    from app.questionnaires import library, responses, submission

    tenant = make_tenant()
    person = make_patient(tenant, sex="F", birth_date=date(1966, 8, 1))
    calls = []
    recompute = assessments.recompute
    monkeypatch.setattr(assessments, "recompute",
                        lambda ids, models=None: calls.append((list(ids), models)) or recompute(ids, models))
    with app.app_context(), tenant_context(tenant.id):
        library.sync_pack()
        db.session.commit()
        calls.clear()
        patient = patients.get(person.id)
        submission.submit(responses.request(library.by_key("phq9"), patient, channel="desk"), patient, PHQ9_ANSWERS)
        assert ("before", "risk:recompute") not in txn.pending()
        db.session.commit()
        assert calls == []
        submission.submit(responses.request(library.by_key("findrisc"), patient, channel="desk"), patient, {
            "age": "55_64", "bmi": "25_30", "sex": "F", "waist_f": "gt88", "activity": "no",
            "vegetables": "daily", "bp_medication": "yes", "high_glucose": "no", "family": "first_degree"})
        db.session.commit()
        assert [(ids, set(models)) for ids, models in calls] == [([person.id], {"chinese_diabetes_risk", "findrisc"})]


def test_gathered_models_join_per_patient(app, make_tenant, make_patient, monkeypatch):
    tenant = make_tenant()
    one, two = make_patient(tenant), make_patient(tenant)
    calls = []
    monkeypatch.setattr(assessments, "recompute", lambda ids, models=None: calls.append((sorted(ids), models)))
    with app.app_context(), tenant_context(tenant.id):
        db.session.commit()
        listeners.recompute_later(tenant.id, one.id, ["bp_grade"])
        listeners.recompute_later(tenant.id, one.id, ["findrisc"])
        listeners.recompute_later(tenant.id, two.id, ["bp_grade"])
        listeners.recompute_later(tenant.id, two.id)
        db.session.commit()
    assert sorted(calls, key=str) == sorted([([one.id], frozenset({"bp_grade", "findrisc"})), ([two.id], None)],
                                            key=str)
