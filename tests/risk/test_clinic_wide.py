"""The clinic-wide run (sets of cards read as id ranges, one INSERT per set, the scores stored for
many patients at once) gives each patient what assessing them alone gives, row for row."""
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from app.core import clock
from app.patients import services as patients
from app.records import services as records
from app.records.models import Observation
from app.risk import assessments
from app.risk.models import RiskAssessment
from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.time_sensitive

SHOWN = ("model", "version", "status", "value", "value_text", "unit", "band", "inputs", "missing", "contributions",
         "what_if", "fingerprint")


def _store(patient_id, values, when):
    patient = patients.get(patient_id)
    rows = [records.Value(records.indicator_by_code(code), text, unit, when) for code, text, unit in values]
    records.store_many(patient, rows, origin="manual")


def _born(years: int, days: int = 40) -> date:
    today = clock.today()
    return date(today.year - years, 1, 1) + timedelta(days=days)


def _current() -> dict:
    return {(row.patient_id, row.model): {key: getattr(row, key) for key in SHOWN}
            for row in db.session.scalars(select(RiskAssessment).where(RiskAssessment.is_current))}


@pytest.fixture
def varied(app, make_tenant, make_patient):
    """Cards with every kind of input: complete, too old, never recorded, answers, history, habits,
    outside the models' ages, a corrected value, and nothing at all."""
    from app.questionnaires import library, responses, submission

    tenant = make_tenant()
    people = {
        "complete": make_patient(tenant, sex="M", birth_date=_born(56)),
        "too_old": make_patient(tenant, sex="F", birth_date=_born(51, 60)),
        "answers": make_patient(tenant, sex="F", birth_date=_born(60, 200)),
        "young": make_patient(tenant, sex="M", birth_date=_born(24)),
        "habits_only": make_patient(tenant, sex="F", birth_date=_born(45)),
        "corrected": make_patient(tenant, sex="M", birth_date=_born(66)),
        "nothing": make_patient(tenant, sex="F", birth_date=_born(38)),
    }
    now = clock.utcnow()
    with app.app_context(), tenant_context(tenant.id):
        complete = patients.get(people["complete"].id)
        patients.add_history(complete, kind="illness", description="2 型糖尿病", since_year=2015)
        patients.add_history(complete, kind="medication", description="氨氯地平 5mg 每日一次", since_year=2018)
        patients.set_lifestyle(complete, smoking="current", alcohol="", exercise="")
        _store(complete.id, [("14647-2", "6.2", "mmol/L"), ("14646-4", "1.1", "mmol/L"), ("8480-6", "150", "mm[Hg]"),
                             ("8462-4", "95", "mm[Hg]"), ("39156-5", "27.3", "kg/m2"), ("8280-0", "93", "cm"),
                             ("14682-9", "88", "umol/L"), ("9318-7", "36", "mg/g")], now - timedelta(days=30))
        _store(people["too_old"].id, [("39156-5", "26.1", "kg/m2"), ("8480-6", "141", "mm[Hg]")],
               now - timedelta(days=400))
        _store(people["too_old"].id, [("8462-4", "88", "mm[Hg]")], now - timedelta(days=3))
        answers = patients.get(people["answers"].id)
        _store(answers.id, [("39156-5", "27.0", "kg/m2"), ("8280-0", "86", "cm")], now - timedelta(days=3))
        library.sync_pack()
        submission.submit(responses.request(library.by_key("findrisc"), answers, channel="desk"), answers, {
            "age": "55_64", "bmi": "25_30", "sex": "F", "waist_f": "gt88", "activity": "no",
            "vegetables": "daily", "bp_medication": "yes", "high_glucose": "no", "family": "first_degree"})
        _store(people["young"].id, [("14647-2", "4.2", "mmol/L"), ("14646-4", "1.6", "mmol/L"),
                                    ("8480-6", "118", "mm[Hg]"), ("14682-9", "70", "umol/L")], now - timedelta(days=2))
        patients.set_lifestyle(patients.get(people["habits_only"].id), smoking="never", alcohol="none", exercise="")
        _store(people["habits_only"].id, [("8480-6", "128", "mm[Hg]"), ("14647-2", "5.1", "mmol/L"),
                                          ("14646-4", "1.3", "mmol/L")], now - timedelta(days=10))
        corrected = people["corrected"].id
        _store(corrected, [("8480-6", "162", "mm[Hg]"), ("8462-4", "99", "mm[Hg]")], now - timedelta(days=5))
        _store(corrected, [("8480-6", "126", "mm[Hg]"), ("8462-4", "79", "mm[Hg]")], now - timedelta(days=5))
        _store(corrected, [("8480-6", "131", "mm[Hg]")], now - timedelta(days=1))
        db.session.commit()
    return tenant, people


def test_the_clinic_wide_run_gives_what_each_patient_alone_gets(app, varied):
    tenant, people = varied
    with app.app_context(), tenant_context(tenant.id):
        ids = sorted(p.id for p in people.values())
        db.session.execute(delete(RiskAssessment))
        for patient_id in ids:
            assessments.recompute([patient_id])
        one_by_one = _current()
        statuses = {row["status"] for row in one_by_one.values()}
        assert statuses == {"ok", "missing", "outside_ages"}
        assert any(gap["why"] == "too_old" for row in one_by_one.values() for gap in row["missing"])
        assert any(row["inputs"].get("active_30min_daily", {}).get("kind") == "answer" for row in one_by_one.values())

        db.session.execute(delete(RiskAssessment))
        assert assessments.recompute_clinic(batch=3, commit=False) == (len(ids), len(one_by_one))
        assert _current() == one_by_one

        assert assessments.recompute_clinic(batch=4, commit=False) == (len(ids), 0)
        assert assessments.recompute(ids) == 0  # the two paths' fingerprints agree
        db.session.rollback()


def test_the_scores_of_many_patients_are_stored_as_one_by_one(app, varied):
    tenant, people = varied
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(delete(RiskAssessment))
        db.session.execute(delete(Observation).where(Observation.origin == assessments.ORIGIN))
        assessments.recompute_clinic(batch=10, commit=False)
        stored = db.session.execute(select(Observation.patient_id, Observation.indicator_id, Observation.value_text,
                                           Observation.flag, Observation.superseded_by)
                                    .where(Observation.origin == assessments.ORIGIN)).all()
        db.session.rollback()
        db.session.execute(delete(RiskAssessment))
        db.session.execute(delete(Observation).where(Observation.origin == assessments.ORIGIN))
        for person in people.values():
            assessments.recompute([person.id])
        alone = db.session.execute(select(Observation.patient_id, Observation.indicator_id, Observation.value_text,
                                          Observation.flag, Observation.superseded_by)
                                   .where(Observation.origin == assessments.ORIGIN)).all()
        assert stored and sorted(stored) == sorted(alone)
        assert {row.patient_id for row in stored} >= {people["complete"].id, people["answers"].id}
        db.session.rollback()
