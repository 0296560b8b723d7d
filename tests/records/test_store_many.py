"""Storing values in batches gives what storing them one by one gives:
duplicates, cancelled results, corrections superseding in turn, previous
flags for alerts, computed values."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.core import clock
from app.patients.models import Patient
from app.records import catalogue, derived, services
from app.records.models import ExamReport, Observation
from tenants.context import tenant_context
from tenants.db import db

WHEN = datetime(2024, 5, 6, 1, 30, tzinfo=timezone.utc)
GLUCOSE, CHOLESTEROL = "14771-0", "14647-2"


def _value(code, text, when=WHEN, status="final", unit=""):
    indicator = services.indicator_by_code(code)
    return services.Value(indicator, text, unit or indicator.unit, when, status=status)


def _rows(patient_id):
    return [(o.value_text, o.status, o.superseded_by) for o in db.session.scalars(
        select(Observation).where(Observation.patient_id == patient_id).order_by(Observation.id))]


def _report(key="r"):
    row = ExamReport(source="hl7", source_key=key)
    db.session.add(row)
    db.session.flush()
    return row.id


def test_a_batch_counts_duplicates_and_cancelled_and_supersedes_in_turn(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        report_id = _report()
        services.store(patient, _value(GLUCOSE, "5.1"), report_id=report_id)  # stored before the batch
        outcomes = services.store_many(patient, [
            _value(GLUCOSE, "5.1"),                       # already stored
            _value(GLUCOSE, "5.4", status="corrected"),   # supersedes 5.1
            _value(CHOLESTEROL, "4.2"),
            _value(CHOLESTEROL, "4.2"),                   # twice in one batch
            _value(GLUCOSE, "5.5", status="corrected"),   # supersedes 5.4, stored just before it
            _value(CHOLESTEROL, "9.9", status="cancelled"),
        ], report_id=report_id)
        db.session.commit()
        assert [o.outcome for o in outcomes] == ["duplicate", "new", "new", "duplicate", "new", "skipped"]
        ids = {o.observation.value_text: o.observation.id for o in outcomes if o.observation}
        rows = _rows(patient.id)
        assert rows == [("5.1", "final", ids["5.4"]), ("5.4", "corrected", ids["5.5"]), ("4.2", "final", None),
                        ("5.5", "corrected", None)]


def test_only_the_same_report_is_superseded(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        first, second = _report("a"), _report("b")
        services.store_many(patient, [_value(GLUCOSE, "5.1")], report_id=first)
        services.store_many(patient, [_value(GLUCOSE, "5.2")], report_id=second)  # another report: both current
        services.store(patient, _value(GLUCOSE, "5.3"))                           # typed in: current too
        services.store(patient, _value(GLUCOSE, "5.6"))                           # supersedes the typed one
        services.store_many(patient, [_value(GLUCOSE, "5.0", when=WHEN + timedelta(days=1))], report_id=first)
        db.session.commit()
        superseded = {text: by is not None for text, _status, by in _rows(patient.id)}
        assert superseded == {"5.1": False, "5.2": False, "5.3": True, "5.6": False, "5.0": False}


def test_a_bad_unit_stops_the_batch_before_anything_is_added(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        try:
            services.store_many(patient, [_value(CHOLESTEROL, "4.2"), _value(GLUCOSE, "5.0", unit="furlong")])
        except catalogue.CatalogueError:
            pass
        else:
            raise AssertionError("a unit that does not convert must raise")
        assert not db.session.new and _rows(patient.id) == []


def test_previous_flags_match_previous_value(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        days = [WHEN + timedelta(days=365 * n) for n in range(4)]
        stored = services.store_many(patient, [_value(GLUCOSE, text, when) for text, when in
                                               zip(("5.0", "6.5", "7.1", "5.2"), days)]
                                     + [_value(CHOLESTEROL, "6.0", days[2])])
        observations = [s.observation for s in stored]
        expected = {}
        for o in observations:
            previous = services.previous_value(patient.id, o.indicator_id, o.observed_at)
            expected[o.id] = previous.flag if previous else None
        assert services.previous_flags(patient.id, observations) == expected
        assert [expected[o.id] for o in observations] == [None, "N", "H", "H", None]


def test_derive_with_the_import_index_matches_the_queries(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        index = catalogue.CodeIndex()
        assert index.indicator(derived.BMI_CODE) is services.indicator_by_code(derived.BMI_CODE)
        assert index.indicator("1558-6") is None  # an alias, not an entry's own code
        other = WHEN + timedelta(days=1)
        services.store_many(patient, [_value(derived.HEIGHT_CODE, "170"), _value(derived.WEIGHT_CODE, "72"),
                                      _value(derived.CREATININE_CODE, "80")])
        services.store_many(patient, [_value(derived.HEIGHT_CODE, "170", other),
                                      _value(derived.WEIGHT_CODE, "73", other)])
        by_index = services.derive(patient, WHEN, indicator=index.indicator)
        by_query = services.derive(patient, other)
        egfr = services.indicator_by_code(derived.EGFR_CODE)
        age = clock.age(patient.birth_date, WHEN.date())
        assert sorted(o.value_text for o in by_index) == sorted(
            ["24.9", f"{derived.egfr_ckd_epi_2021(80, age, patient.sex):.{egfr.decimals}f}"])
        assert [o.value_text for o in by_query] == ["25.3"]
        assert services.derive(patient, WHEN, indicator=index.indicator) == []  # computed already


def _current(patient_id, code):
    indicator = services.indicator_by_code(code)
    return sorted(o.value_text for o in db.session.scalars(select(Observation).where(
        Observation.patient_id == patient_id, Observation.indicator_id == indicator.id,
        Observation.superseded_by.is_(None))))


def test_corrected_inputs_recompute_bmi_and_egfr_but_not_a_reported_bmi(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        report_id = _report()
        services.store_many(patient, [_value(derived.HEIGHT_CODE, "170"), _value(derived.WEIGHT_CODE, "72"),
                                      _value(derived.CREATININE_CODE, "80")], report_id=report_id)
        services.derive(patient, WHEN, report_id=report_id)
        assert _current(patient.id, derived.BMI_CODE) == ["24.9"]
        first_egfr = _current(patient.id, derived.EGFR_CODE)

        # a correction typed by hand (another source than the report) for the same time
        services.store_many(patient, [_value(derived.WEIGHT_CODE, "80"), _value(derived.CREATININE_CODE, "120")])
        fresh = services.derive(patient, WHEN)
        assert _current(patient.id, derived.BMI_CODE) == ["27.7"]
        egfr = services.indicator_by_code(derived.EGFR_CODE)
        age = clock.age(patient.birth_date, WHEN.date())
        assert _current(patient.id, derived.EGFR_CODE) == [
            f"{derived.egfr_ckd_epi_2021(120, age, patient.sex):.{egfr.decimals}f}"] != first_egfr
        assert len(fresh) == 2 and services.derive(patient, WHEN) == []  # nothing changed since

        later = WHEN + timedelta(days=1)  # the lab reported its own BMI: a correction leaves it
        other = _report("r2")
        services.store_many(patient, [_value(derived.HEIGHT_CODE, "170", later),
                                      _value(derived.WEIGHT_CODE, "72", later),
                                      _value(derived.BMI_CODE, "25.0", later)], report_id=other)
        services.store_many(patient, [_value(derived.WEIGHT_CODE, "90", later)])
        assert services.derive(patient, later) == []
        reported = services.indicator_by_code(derived.BMI_CODE)
        assert [o.value_text for o in db.session.scalars(select(Observation).where(
            Observation.patient_id == patient.id, Observation.indicator_id == reported.id,
            Observation.observed_at == later, Observation.superseded_by.is_(None)))] == ["25.0"]


def test_correcting_back_to_an_earlier_value_makes_it_current_again(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        services.store_many(patient, [_value(derived.HEIGHT_CODE, "170"), _value(derived.WEIGHT_CODE, "70")])
        services.derive(patient, WHEN)
        assert _current(patient.id, derived.BMI_CODE) == ["24.2"]
        services.store_many(patient, [_value(derived.WEIGHT_CODE, "70.1")])
        services.derive(patient, WHEN)
        assert _current(patient.id, derived.BMI_CODE) == ["24.3"]
        back = services.store_many(patient, [_value(derived.WEIGHT_CODE, "70")])  # typed wrong, then back
        assert back[0].outcome == "restored" and _current(patient.id, derived.WEIGHT_CODE) == ["70"]
        restored = services.derive(patient, WHEN)
        assert _current(patient.id, derived.BMI_CODE) == ["24.2"] and len(restored) == 1
        assert services.store_many(patient, [_value(derived.WEIGHT_CODE, "70")])[0].outcome == "duplicate"

        report_id = _report()  # a re-imported report changes nothing, even where a value was corrected
        services.store_many(patient, [_value(GLUCOSE, "5.6")], report_id=report_id, origin="import")
        services.store_many(patient, [_value(GLUCOSE, "5.9")], report_id=report_id, origin="import")
        again = services.store_many(patient, [_value(GLUCOSE, "5.6")], report_id=report_id, origin="import")
        assert again[0].outcome == "duplicate" and _current(patient.id, GLUCOSE) == ["5.9"]


def test_a_value_beyond_the_critical_limits_is_critical_whatever_the_lab_flagged(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, made.id))
        glucose = services.indicator_by_code(GLUCOSE)
        glucose.critical = {"low": 2.8, "high": 13.0, "high_inclusive": True, "source": "test limits"}
        high = services.Value(glucose, "13.2", "mmol/L", WHEN, lab_flag="H")
        at_limit = services.Value(glucose, "234", "mg/dL", WHEN + timedelta(days=1))  # 12.99 mmol/L
        low = services.Value(glucose, "2.7", "mmol/L", WHEN + timedelta(days=2))
        stored = [s.observation for s in services.store_many(patient, [high, at_limit, low])]
        assert [(o.flag, o.flag_source) for o in stored] == [("HH", "critical"), ("H", "catalogue"),
                                                             ("LL", "critical")]
        assert catalogue.critical_flag(13.0, glucose.critical) == "HH"
        assert catalogue.critical_flag(2.8, glucose.critical) == ""
