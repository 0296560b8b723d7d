"""The import service: matching, atomic reports, duplicates, corrections,
units, flags, derived values, the unmatched queue and alerts."""
from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.patients.models import Patient
from app.records import derived, importer, waiting
from app.records.models import Alert, ExamReport, Observation
from tenants.context import tenant_context
from tenants.db import db
from tests.helpers import valid_id

FINAL, CORRECTED = "final", "corrected"


def _observations(patient_id):
    return list(db.session.scalars(select(Observation).where(Observation.patient_id == patient_id)
                                   .order_by(Observation.id)))


def _patient(tenant, patient):
    return db.session.get(Patient, (tenant.id, patient.id))


def test_egfr_matches_the_published_check_value():
    assert round(derived.egfr_ckd_epi_2021(1.2 * 88.4, 55, "M")) == 71
    assert derived.egfr_ckd_epi_2021(80, 15, "F") is None  # adults only
    assert derived.ckd_stage(71) == "G2" and derived.ckd_stage(44.9) == "G3b"


def test_import_converts_units_flags_and_derives(app, make_tenant, make_patient, report):
    tenant = make_tenant()
    patient = make_patient(tenant, sex="M", birth_date=date(1969, 1, 1))
    with app.app_context(), tenant_context(tenant.id):
        summary = importer.import_parsed([report(patient.card_no, [
            ("1558-6", "126", "mg/dL", "", FINAL),      # glucose in mg/dL via its alias code
            ("8302-2", "175", "cm", "", FINAL), ("29463-7", "80", "kg", "", FINAL),
            ("14682-9", "106", "umol/L", "", FINAL),     # creatinine 1.2 mg/dL
            ("14927-8", "阴性", "", "", FINAL),          # text result kept as text
            ("1742-6", "88", "U/L", "H", FINAL),         # the lab's flag wins
        ])])
        db.session.commit()
        assert summary.errors == [] and summary.imported == 1
        rows = {o.indicator_id: o for o in _observations(patient.id)}
        values = {r.value_text: r for r in rows.values()}
        glucose = values["126"]
        assert glucose.value == pytest.approx(6.99, abs=0.01)
        assert glucose.flag == "H" and glucose.flag_source == "catalogue"
        assert glucose.reported_unit == "mg/dL"
        assert values["阴性"].value is None
        assert values["88"].flag == "H" and values["88"].flag_source == "lab"
        computed = [o for o in rows.values() if o.origin == "computed"]
        # BMI, eGFR 71.4 shown to 0 decimals (age 55 on 2024-05-06)
        assert sorted(round(o.value, 1) for o in computed) == [26.1, 71.0]


def test_same_report_twice_stores_nothing_new_and_corrections_supersede(app, make_tenant, make_patient, report):
    tenant = make_tenant()
    patient = make_patient(tenant)
    first = report(patient.card_no, [("14771-0", "5.2", "mmol/L", "", FINAL)], key="msg-1")
    with app.app_context(), tenant_context(tenant.id):
        importer.import_parsed([first])
        again = importer.import_parsed([first])
        assert again.duplicates == 1 and again.results == 0
        corrected = importer.import_parsed([report(patient.card_no, [("14771-0", "6.4", "mmol/L", "", CORRECTED)],
                                                   key="msg-1")])
        db.session.commit()
        assert corrected.results == 1
        rows = _observations(patient.id)
        assert [(r.value_text, r.status, bool(r.superseded_by)) for r in rows] == [
            ("5.2", "final", True), ("6.4", "corrected", False)]
        assert db.session.scalar(select(func.count()).select_from(ExamReport)) == 1


def test_known_results_are_stored_and_the_rest_wait_or_are_refused(app, make_tenant, make_patient, report):
    """A lipid panel with one unfamiliar line stores the rest; every unknown code is named at once."""
    tenant = make_tenant()
    patient, other = make_patient(tenant, name="好报告"), make_patient(tenant, name="坏报告")
    with app.app_context(), tenant_context(tenant.id), force_locale("en"):  # the messages in English
        summary = importer.import_parsed([
            report(patient.card_no, [("14647-2", "5.0", "mmol/L", "", FINAL), ("LOCAL-1", "1", "", "", FINAL),
                                     ("14771-0", "5.0", "g", "", FINAL), ("LOCAL-2", "3", "mg", "", FINAL)],
                   key="b"),
            report(other.card_no, [("14771-0", "1e78", "mmol/L", "", FINAL)], key="c"),
        ])
        db.session.commit()
        assert summary.imported == 1 and summary.results == 1 and summary.waiting == 3
        [held] = [w for w in summary.warnings if "wait on the lab codes page" in w]
        assert "message b: 3 results wait" in held and "LOCAL-1" in held and "LOCAL-2" in held and "unit g" in held
        assert [o.value_text for o in _observations(patient.id)] == ["5.0"]
        assert summary.errors == ["message c: OBX 1: 1e78 mmol/L refused: not a finite measurement"]
        assert _observations(other.id) == []
        groups = {(g.code, tuple(g.reasons)) for g in waiting.groups()}
        assert groups == {("LOCAL-1", ("unmapped",)), ("LOCAL-2", ("unmapped",)), ("14771-0", ("unit",))}


def test_matching_by_id_number_then_name_and_birth_date(app, make_tenant, make_patient, report):
    tenant = make_tenant()
    born = date(1975, 3, 8)
    by_id = make_patient(tenant, name="王晓燕", sex="F", birth_date=born, id_number=valid_id(born, "F"))
    by_name = make_patient(tenant, name="李雷", birth_date=date(1980, 1, 2))
    with app.app_context(), tenant_context(tenant.id):
        importer.import_parsed([
            report(id_number=valid_id(born, "F"), results=[("14771-0", "5.1", "mmol/L", "", FINAL)], key="i"),
            report(name="李雷", birth_date=date(1980, 1, 2), results=[("14771-0", "5.3", "mmol/L", "", FINAL)],
                   key="n")])
        db.session.commit()
        assert [o.value_text for o in _observations(by_id.id)] == ["5.1"]
        assert [o.value_text for o in _observations(by_name.id)] == ["5.3"]


def test_unmatched_report_waits_then_is_assigned(app, make_tenant, make_patient, report, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, name="韩梅梅", sex="F")
    with app.app_context(), tenant_context(tenant.id):
        summary = importer.import_parsed([report(name="Han Meimei", card_no="EXT-77",
                                                 results=[("14771-0", "5.5", "mmol/L", "", FINAL)], key="u")])
        db.session.commit()
        assert summary.unmatched == 1
    client = client_for(tenant, tenant.owner_email)
    page = client.get("/records/unmatched").get_data(as_text=True)
    assert "Han Meimei" in page and "EXT-77" in page
    with app.app_context(), tenant_context(tenant.id):
        report_id = db.session.scalar(select(ExamReport.id).where(ExamReport.status == "unmatched"))
    wrong = client.submit(f"/records/unmatched/{report_id}/assign", {"card_no": "NOPE1"})
    assert wrong.status_code == 302
    client.submit(f"/records/unmatched/{report_id}/assign", {"card_no": patient.card_no})
    with app.app_context(), tenant_context(tenant.id):
        assert [o.value_text for o in _observations(patient.id)] == ["5.5"]
        assert db.session.get(ExamReport, (tenant.id, report_id)).status == "imported"


def test_newly_abnormal_and_critical_results_alert_the_doctor(app, make_tenant, make_patient, make_staff,
                                                              report, client_for):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    patient = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        _patient(tenant, patient).responsible_doctor_id = doctor.id
        db.session.commit()
        early = datetime(2023, 5, 1, tzinfo=timezone.utc)
        importer.import_parsed([report(patient.card_no, [("14771-0", "6.5", "mmol/L", "", FINAL)], key="a",
                                       when=early)])
        importer.import_parsed([report(patient.card_no, [("14771-0", "6.8", "mmol/L", "", FINAL),
                                                          ("14647-2", "9.9", "mmol/L", "HH", FINAL)], key="b")])
        db.session.commit()
        kinds = sorted(a.kind for a in db.session.scalars(select(Alert)))
        assert kinds == ["abnormal", "critical"]  # 6.8 persists from 6.5: no second "new" alert
    client = client_for(tenant, doctor.email)
    page = client.get("/alerts").get_data(as_text=True)
    assert "9.9" in page and 'class="count"' in page
    with app.app_context(), tenant_context(tenant.id):
        alert_id = db.session.scalar(select(Alert.id).where(Alert.kind == "critical"))
    assert client.submit(f"/alerts/{alert_id}/ack", {"note": ""}).status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(Alert, (tenant.id, alert_id)).status == "open"
    client.submit(f"/alerts/{alert_id}/ack", {"note": "已电话通知患者复查"})  # critical: who was informed too
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(Alert, (tenant.id, alert_id)).status == "open"
    client.submit(f"/alerts/{alert_id}/ack", {"note": "已电话通知患者复查", "informed": "patient",
                                              "informed_name": "患者本人"})
    with app.app_context(), tenant_context(tenant.id):
        alert = db.session.get(Alert, (tenant.id, alert_id))
        assert alert.status == "acknowledged" and alert.note == "已电话通知患者复查"
        assert (alert.informed, alert.informed_name) == ("patient", "患者本人")
        from app.notifications.models import Notification

        sent = {n.template_key: n for n in db.session.scalars(select(Notification).where(
            Notification.recipient_id == doctor.id))}
        assert set(sent) == {"abnormal_result_alert", "critical_result_alert"}  # one per alert
        assert sent["critical_result_alert"].read_at is not None  # acknowledged: its inbox copy is read
        assert sent["abnormal_result_alert"].read_at is None


def test_manual_entry_with_units_and_computed_bmi(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    with app.app_context(), tenant_context(tenant.id):
        from app.records.services import indicator_by_code

        ids = {code: indicator_by_code(code).id for code in ("8302-2", "29463-7", "14771-0")}
    response = client.submit(f"/patients/{patient.id}/observations", {
        "observed_on": "2025-06-01", f"v-{ids['8302-2']}": "1.70", f"u-{ids['8302-2']}": "m",
        f"v-{ids['29463-7']}": "72", f"v-{ids['14771-0']}": "108", f"u-{ids['14771-0']}": "mg/dL"})
    assert response.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        values = sorted((round(o.value, 2), o.origin) for o in _observations(patient.id))
        assert values == [(5.99, "manual"), (24.9, "computed"), (72.0, "manual"), (170.0, "manual")]
