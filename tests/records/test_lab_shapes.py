"""Lab output as labs write it: partial imports and the waiting queue, codes in any coding, units by
their UCUM meaning, values that are not numbers, retractions, and identities that must not be trusted.
Messages are in the shapes HL7 v2.3-2.7 and FHIR R4 bundles (collection, transaction, batch) take."""
import json
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.patients.models import Patient
from app.records import importer, results, waiting
from app.records.models import Alert, ExamReport, Observation, WaitingResult
from app.records.parse_fhir import parse_fhir
from app.records.parse_hl7 import parse_hl7
from tenants.context import tenant_context
from tenants.db import db
from tests.helpers import valid_id


def _hl7(card_no: str, obx: list[str], *, version="2.5.1", filler="F100", name="张明华", birth="19800517",
         control="C1", pid_extra="") -> bytes:
    segments = [f"MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|20240506093000||ORU^R01|{control}|P|{version}",
                f"PID|1||{card_no}{pid_extra}||{name}||{birth}|M",
                f"OBR|1||{filler}|LAB^体检|||20240506083000"]
    segments += [f"OBX|{n}|{row}" for n, row in enumerate(obx, 1)]
    return ("\r".join(segments) + "\r").encode()


def _import(data: bytes, **kwargs) -> importer.ImportSummary:
    parser = parse_fhir if data.lstrip().startswith(b"{") else parse_hl7
    with force_locale("en"):
        summary = importer.import_parsed(parser(data), **kwargs)
    db.session.commit()
    return summary


def _current(patient_id: int) -> dict[str, tuple]:
    """code -> (value_text, value) of the patient's current values."""
    return {indicator.code: (o.value_text, o.value) for o, indicator in results.history(patient_id)}


def test_a_panel_with_unknown_lines_stores_the_rest_and_mapping_a_code_stores_what_waited(
        app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    lipid_panel = _hl7(patient.card_no, [
        "NM|14647-2^总胆固醇^LN||5.1|mmol/L|<5.2|N|||F",
        "NM|TG01^甘油三酯||1.9|mmol/L|<1.7|H|||F",            # the lab's own code, unknown here
        "NM|APOA^载脂蛋白A1||1.2|g/L|1.0-1.6|N|||F",          # unknown too: both are named at once
        "NM|14646-4^高密度脂蛋白胆固醇^LN||1.3||>1.0|N|||F",   # no unit: waits, never assumed to be mmol/L
    ])
    with app.app_context(), tenant_context(tenant.id):
        summary = _import(lipid_panel)
        assert (summary.imported, summary.results, summary.waiting, summary.errors) == (1, 1, 3, [])
        [note] = summary.warnings
        assert "TG01" in note and "APOA" in note and "14646-4 (高密度脂蛋白胆固醇, no unit)" in note
        assert set(_current(patient.id)) == {"14647-2"}
        assert {(g.code, tuple(g.reasons), g.count) for g in waiting.groups()} == {
            ("TG01", ("unmapped",), 1), ("APOA", ("unmapped",), 1), ("14646-4", ("no_unit",), 1)}
        assert _import(lipid_panel).waiting == 3  # sent again: nothing new is stored, each result waits once
        assert db.session.scalar(select(func.count()).select_from(WaitingResult)) == 3
        triglycerides = results.indicator_by_code("14927-8").id

    client = client_for(tenant, tenant.owner_email)
    page = client.get("/records/lab-codes?sender=康宁检验科&local_code=TG01&unit=mmol/L")
    assert "TG01" in page.get_data(as_text=True) and 'value="TG01"' in page.get_data(as_text=True)
    saved = client.submit("/records/lab-codes", {"sender": "康宁检验科", "local_code": "TG01",
                                                 "indicator_id": str(triglycerides), "unit": ""})
    assert saved.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        current = _current(patient.id)
        assert current["14927-8"] == ("1.9", 1.9)
        observation = db.session.scalar(select(Observation).join(ExamReport, ExamReport.id == Observation.report_id)
                                        .where(Observation.patient_id == patient.id,
                                               Observation.value_text == "1.9"))
        assert observation.flag == "H"  # the lab's flag came with it
        assert db.session.scalar(select(func.count()).select_from(ExamReport)) == 1  # stored into its report
        assert {g.code for g in waiting.groups()} == {"APOA", "14646-4"}


def test_loinc_is_found_in_any_coding_and_units_by_their_meaning(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant)
    message = _hl7(patient.card_no, [
        "NM|GLU^葡萄糖^L^14771-0^Glucose^LN||5.6|mmol/l|||||F",   # LOINC in the alternate triplet
        "NM|8480-6^Systolic^LN||132|mm Hg|||||F",                  # a spelling UCUM's grammar does not read
        "NM|2093-3^Cholesterol^LN||2.0|g/L|||||F",                 # g/L to mg/dL by UCUM, then to mmol/L
        "NM|8867-4^Heart rate^LN||72|beats/minute|||||F",
    ], version="2.3")
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": "urn:uuid:0c6c9a38-1b5c-4b8e-9d4c-8f3c2c3f9a11",
        "resource": {"resourceType": "Observation", "status": "final",
                     "code": {"coding": [{"system": "http://acme.example/codes", "code": "HR"},
                                         {"system": "http://loinc.org", "code": "8867-4"}]},
                     "subject": {"identifier": {"system": "card", "value": patient.card_no}, "display": "张明华"},
                     "effectiveDateTime": "2024-05-07T08:30:00+08:00",
                     "valueQuantity": {"value": 64, "unit": "beats/minute", "system": "http://unitsofmeasure.org",
                                       "code": "/min"}}}]}
    with app.app_context(), tenant_context(tenant.id):
        summary = _import(message)
        assert (summary.results, summary.waiting, summary.errors) == (4, 0, [])
        current = _current(patient.id)
        assert current["14771-0"] == ("5.6", 5.6) and current["8480-6"] == ("132", 132.0)
        assert round(current["14647-2"][1], 2) == round(200 * 0.025860, 2)
        assert _import(json.dumps(bundle).encode()).results == 1
        rates = [o.value for o, i in results.history(patient.id) if i.code == "8867-4"]
        assert rates == [72.0, 64.0]


def test_values_that_are_not_numbers_are_never_stored_as_numbers(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant, sex="M", birth_date=date(1970, 1, 1))
    message = _hl7(patient.card_no, [
        "DT|29463-7^Weight^LN||20240315|kg|||||F",      # a date is not a weight
        "NM|8302-2^Height^LN|||cm|||||F",                # empty: nothing measured
        "NM|14682-9^Creatinine^LN||1.1||||||F",          # no unit: waits, and no eGFR of 261 from it
        "NM|14771-0^Glucose^LN||100||||||F",             # no unit: never assumed mmol/L
        "TX|8480-6^Systolic^LN||see note|mm[Hg]|||||F",  # text for a number
        "NM|8462-4^Diastolic^LN||88|mm[Hg]|||||F",
    ])
    with app.app_context(), tenant_context(tenant.id):
        summary = _import(message)
        assert summary.results == 1 and summary.waiting == 2
        refusals = [w for w in summary.warnings if "not a number" in w]
        assert len(refusals) == 2 and "'20240315'" in refusals[0] and "'see note'" in refusals[1]
        assert _current(patient.id) == {"8462-4": ("88", 88.0)}
        patient_row = db.session.get(Patient, (tenant.id, patient.id))
        weight = results.indicator_by_code("29463-7")
        weight.plausible = {"low": 1, "high": 400}
        db.session.commit()
        too_heavy = _import(_hl7(patient_row.card_no, ["NM|29463-7^Weight^LN||4000|kg|||||F"], filler="F2"))
        assert too_heavy.results == 0 and "outside the plausible limits of 体重" in too_heavy.errors[0]


def test_a_retraction_withdraws_the_value_its_alert_and_is_recorded(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant)
    final = _hl7(patient.card_no, ["NM|14771-0^Glucose^LN||9.8|mmol/L|3.9-6.1|H|||F"], control="A")
    with app.app_context(), tenant_context(tenant.id):
        assert _import(final).results == 1
        assert db.session.scalar(select(Alert.status).where(Alert.patient_id == patient.id)) == "open"
        for status in ("W", "D", "X"):
            retraction = _hl7(patient.card_no, [f"NM|14771-0^Glucose^LN||9.8|mmol/L|||||{status}"], control=status)
            summary = _import(retraction)
            assert summary.retracted == (1 if status == "W" else 0), status  # then nothing is current
            assert summary.errors == []
        assert "14771-0" not in _current(patient.id)
        assert db.session.scalar(select(Alert.status).where(Alert.patient_id == patient.id)) == "withdrawn"
        rows = list(db.session.scalars(select(Observation).where(Observation.patient_id == patient.id)
                                       .order_by(Observation.created_at, Observation.id)))
        assert [(r.status, r.superseded_by == rows[1].id) for r in rows] == [("final", True), ("cancelled", True)]
        assert _import(final).results == 0  # the same report sent again does not bring the value back


def test_fhir_entered_in_error_retracts_and_relative_references_read_against_the_full_url(
        app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant)
    base = "http://lab.example.org/fhir"

    def bundle(status: str, kind: str) -> bytes:
        return json.dumps({"resourceType": "Bundle", "type": kind, "entry": [
            {"fullUrl": f"{base}/DiagnosticReport/r1",
             "resource": {"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "生化"},
                          "identifier": [{"system": "http://lab.example.org/orders", "value": "R1"}],
                          "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-05-06T08:30:00+08:00",
                          "result": [{"reference": "Observation/o1"}]},
             "request": {"method": "POST", "url": "DiagnosticReport"}},
            {"fullUrl": f"{base}/Patient/p1",
             "resource": {"resourceType": "Patient", "name": [{"text": "张明华"}],
                          "identifier": [{"system": "card", "value": patient.card_no}]},
             "request": {"method": "PUT", "url": "Patient/p1"}},
            {"fullUrl": f"{base}/Observation/o1",
             "resource": {"resourceType": "Observation", "status": status,
                          "code": {"coding": [{"system": "http://loinc.org", "code": "14771-0"}]},
                          "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-05-06T08:30:00+08:00",
                          "valueQuantity": {"value": 5.9, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                                            "code": "mmol/L"}},
             "request": {"method": "POST", "url": "Observation"}},
        ]}).encode()

    with app.app_context(), tenant_context(tenant.id):
        assert _import(bundle("final", "transaction")).results == 1  # no resource ids used: only fullUrls
        assert _current(patient.id)["14771-0"] == ("5.9", 5.9)
        assert _import(bundle("entered-in-error", "batch")).retracted == 1
        assert "14771-0" not in _current(patient.id)


def test_a_filed_report_is_never_moved_to_another_patient(app, make_tenant, make_patient):
    tenant = make_tenant()
    first, second = make_patient(tenant, name="王芳"), make_patient(tenant, name="李强")
    with app.app_context(), tenant_context(tenant.id):
        assert _import(_hl7(first.card_no, ["NM|14771-0^^LN||5.1|mmol/L|||||F"], name="王芳")).results == 1
        moved = _import(_hl7(second.card_no, ["NM|14771-0^^LN||7.9|mmol/L|||||C"], name="李强", control="C2"))
        assert moved.results == 0 and moved.unmatched == 1 and "filed for another patient" in moved.warnings[0]
        assert _current(first.id)["14771-0"] == ("5.1", 5.1) and _current(second.id) == {}
        held = db.session.scalar(select(ExamReport).where(ExamReport.status == "unmatched"))
        assert held.source_key.startswith("康宁检验科|filler:F100#conflict:")
        assert "conflict" in held.patient_hint


def test_a_card_number_contradicted_by_the_id_number_or_name_is_not_trusted(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant, name="赵敏", sex="F", birth_date=date(1990, 1, 1),
                           id_number=valid_id(date(1990, 1, 1), "F"))
    other_id = valid_id(date(1985, 5, 5), "M")
    with app.app_context(), tenant_context(tenant.id):
        wrong_id = _hl7(patient.card_no, ["NM|14771-0^^LN||5.0|mmol/L|||||F"], name="赵敏",
                        pid_extra=f"~{other_id}^^^^NNCHN")
        assert _import(wrong_id).unmatched == 1
        wrong_name = _hl7(patient.card_no, ["NM|14771-0^^LN||5.0|mmol/L|||||F"], name="钱多多", filler="F2")
        assert _import(wrong_name).unmatched == 1
        same = _hl7(patient.card_no, ["NM|14771-0^^LN||5.0|mmol/L|||||F"], name="赵 敏", filler="F3")
        assert _import(same).results == 1  # a space inside a Chinese name is the same name


def test_an_unreadable_birth_date_is_a_warning_when_the_card_matches(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        summary = _import(_hl7(patient.card_no, ["NM|14771-0^^LN||5.0|mmol/L|||||F"], birth="19803517"))
        assert summary.results == 1 and "PID-7" in summary.warnings[0]
        nobody = _import(_hl7("", ["NM|14771-0^^LN||5.0|mmol/L|||||F"], birth="19803517", filler="F9"))
        assert nobody.unmatched == 1  # matching would need the birth date: the report waits for a person


def test_an_upload_on_a_patient_page_does_not_take_a_lab_record_number_for_a_card(
        app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    message = _hl7("MRN-77812", ["NM|14771-0^^LN||5.4|mmol/L|||||F"])
    client = client_for(tenant, tenant.owner_email)
    import io
    answer = client.submit(f"/patients/{patient.id}/import", {"file": (io.BytesIO(message), "lab.hl7")},
                           content_type="multipart/form-data")
    assert answer.status_code == 200
    with app.app_context(), tenant_context(tenant.id):
        assert _current(patient.id)["14771-0"] == ("5.4", 5.4)
    other_card = _hl7(patient.card_no[:-1] + ("1" if patient.card_no[-1] != "1" else "2"),
                      ["NM|14771-0^^LN||5.5|mmol/L|||||F"], filler="F5")
    refused = client.submit(f"/patients/{patient.id}/import", {"file": (io.BytesIO(other_card), "lab.hl7")},
                            content_type="multipart/form-data")
    assert refused.status_code == 422


@pytest.mark.parametrize("version, message_type, obx3", [
    ("2.3", "ORU^R01", "GLU^Glucose^L^14771-0^Glucose^LN"),
    ("2.3.1", "ORU^R01", "14771-0^Glucose^LN"),
    ("2.4", "ORU^R01", "14771-0^Glucose^LN^GLU^葡萄糖^L"),
    ("2.5.1", "ORU^R01^ORU_R01", "14771-0^Glucose^LN"),
    ("2.6", "ORU^R01^ORU_R01", "14771-0^Glucose^LN^^^^2.56"),
    ("2.7", "ORU^R01^ORU_R01", "14771-0^Glucose^LN^GLU^葡萄糖^L^2.73^v1"),
])
def test_each_hl7_version_shape_imports(app, make_tenant, make_patient, version, message_type, obx3):
    tenant = make_tenant()
    patient = make_patient(tenant)
    data = (f"MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|20240506093000+0800||{message_type}|V{version}|P|{version}\r"
            f"PID|1||{patient.card_no}^^^DEMO^MR||张明华||19800517|M\r"
            "OBR|1||F7|24331-1^Lipid panel^LN|||20240506083000+0800\r"
            f"OBX|1|NM|{obx3}||6.2|mmol/L^^UCUM|3.9-6.1|H|||F|||20240506083000+0800\r").encode()
    with app.app_context(), tenant_context(tenant.id):
        summary = _import(data)
        assert (summary.results, summary.waiting, summary.errors) == (1, 0, [])
        assert _current(patient.id)["14771-0"] == ("6.2", 6.2)


def test_a_retracted_item_leaves_its_alert_and_the_rest_stays_open(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant)
    both = _hl7(patient.card_no, ["NM|14771-0^Glucose^LN||9.8|mmol/L|3.9-6.1|H|||F",
                                  "NM|14647-2^Cholesterol^LN||7.1|mmol/L|<5.2|H|||F"], control="B1")
    with app.app_context(), tenant_context(tenant.id):
        assert _import(both).results == 2
        alert = db.session.scalar(select(Alert).where(Alert.patient_id == patient.id))
        assert (alert.status, alert.item_count) == ("open", 2)
        _import(_hl7(patient.card_no, ["NM|14771-0^Glucose^LN||9.8|mmol/L|||||W"], control="B2"))
        db.session.refresh(alert)
        assert (alert.status, alert.item_count) == ("open", 1)
        assert alert.summary.startswith("总胆固醇 7.1") and "空腹血糖" not in alert.summary
