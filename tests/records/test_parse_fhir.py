"""FHIR R4 JSON parser: official HL7 examples (see samples/README.md) and our own."""
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from app.records import parsed
from app.records.parse_fhir import parse_fhir
from app.records.parsed import ParsedReport, ParseError

SAMPLES = Path(__file__).parent / "samples" / "fhir"
CST = ZoneInfo("Asia/Shanghai")  # outside a clinic, times without an offset are in the default zone


def load(name: str) -> list:
    return parse_fhir((SAMPLES / name).read_bytes())


def only_report(entries: list) -> ParsedReport:
    assert len(entries) == 1 and isinstance(entries[0], ParsedReport), entries
    return entries[0]


def by_code(report: ParsedReport) -> dict:
    return {r.code: r for r in report.results}


# ---------------------------------------------------------------- official R4 examples

def test_official_blood_pressure_becomes_two_results():
    report = only_report(load("observation-example-bloodpressure.json"))
    assert report.source == "fhir" and report.label == "Observation/blood-pressure"
    assert report.source_key == "urn:ietf:rfc:3986|urn:uuid:187e0c12-8dd2-67e2-99b2-bf273c878281"
    assert report.title == "Blood pressure systolic & diastolic"
    assert report.observed_at == datetime(2012, 9, 17, tzinfo=CST)  # a date without offset: China time
    systolic, diastolic = report.results
    assert (systolic.code, systolic.code_system, systolic.name) == ("8480-6", "loinc", "Systolic blood pressure")
    assert (systolic.value_text, systolic.value, systolic.unit, systolic.flag) == ("107", 107.0, "mm[Hg]", "N")
    assert (diastolic.code, diastolic.value, diastolic.unit, diastolic.flag) == ("8462-4", 60.0, "mm[Hg]", "L")
    assert systolic.position == "Observation/blood-pressure component 1"
    assert systolic.status == diastolic.status == parsed.FINAL
    # Patient/example is not in the file: nothing to identify the patient by
    assert report.patient == parsed.PatientRef()


def test_official_glucose_effective_period_and_range():
    report = only_report(load("observation-example-f001-glucose.json"))
    assert report.source_key == "http://www.bmc.nl/zorgportal/identifiers/observations|6323"
    assert report.patient.name == "P. van de Heuvel"  # the reference's display text
    assert report.observed_at == datetime(2013, 4, 2, 9, 30, 10, tzinfo=timezone(timedelta(hours=1)))
    assert report.sender == ""  # the performer is a Practitioner, not a lab
    [glucose] = report.results
    assert (glucose.code, glucose.value_text, glucose.value, glucose.unit) == ("15074-8", "6.3", 6.3, "mmol/L")
    assert (glucose.ref_low, glucose.ref_high, glucose.ref_text, glucose.flag) == (3.1, 6.2, "3.1-6.2", "H")


def test_official_blood_group_coded_value():
    report = only_report(load("observation-example-bloodgroup.json"))
    [group] = report.results
    assert (group.code, group.name, group.value_text, group.value) == ("883-9", "Blood Group", "A", None)
    assert report.observed_at == datetime(2018, 3, 11, 16, 7, 54, tzinfo=timezone.utc)


def test_official_lipid_bundle_resolves_relative_references():
    report = only_report(load("bundle-lipids.json"))
    assert report.label == "entry 1 (DiagnosticReport/lipids)"
    assert report.source_key == "http://acme.com/lab/reports|5234342"
    assert report.title == "Lipid Panel" and report.sender == "Acme Laboratory, Inc"
    assert report.observed_at == datetime(2011, 3, 4, 8, 30, tzinfo=timezone(timedelta(hours=11)))
    rows = by_code(report)
    assert list(rows) == ["35200-5", "35217-9", "2085-9", "13457-7"]
    assert (rows["35200-5"].value, rows["35200-5"].ref_high, rows["35200-5"].ref_text) == (6.3, 4.5, "<4.5")
    assert (rows["2085-9"].name, rows["2085-9"].ref_low, rows["2085-9"].ref_text) == ("Cholesterol in HDL", 1.5, ">1.5")
    assert rows["13457-7"].value == 4.6 and rows["13457-7"].unit == "mmol/L"
    assert rows["35217-9"].position == "entry 3 (Observation/triglyceride)"
    assert all(r.observed_at == report.observed_at for r in report.results)


# ---------------------------------------------------------------- our samples

def test_transaction_bundle_with_urn_uuid_references():
    lipids, weight, pulse = load("cn_transaction_bundle.json")
    assert lipids.label == "entry 3 (DiagnosticReport)"
    assert lipids.source_key == "http://lis.example.cn/report|LAB2024030500123"
    assert (lipids.title, lipids.sender) == ("血脂四项", "市第一医院检验科")
    patient = lipids.patient
    assert (patient.card_no, patient.id_number, patient.name) == ("C0012345", "11010119900307123X", "李四")
    assert (patient.birth_date, patient.sex, patient.mobile) == (date(1990, 3, 7), "F", "13800138000")
    tc, tg, crp, protein = lipids.results
    assert (tc.code, tc.code_system, tc.name) == ("14647-2", "loinc", "总胆固醇")  # the LOINC coding wins
    assert (tc.value_text, tc.value, tc.ref_low, tc.ref_high, tc.flag) == ("6.10", 6.1, 3.1, 5.2, "H")
    assert (tg.code, tg.code_system, tg.unit, tg.status, tg.flag) == ("TG", "local", "mmol/L", parsed.CORRECTED, "H")
    assert (tg.ref_text, tg.ref_high) == ("<1.7", 1.7)
    assert (crp.value_text, crp.value, crp.status) == ("<5.0", None, parsed.PRELIMINARY)
    assert crp.observed_at == lipids.observed_at == datetime(2024, 3, 5, 8, 30, tzinfo=CST)
    assert (protein.code, protein.value_text, protein.ref_text, protein.flag) == ("尿蛋白", "阴性", "阴性", "N")
    # observations no report refers to are reports of their own
    assert weight.source_key == "http://clinic.example.cn/vitals|W-2024-0305-1" and weight.title == "体重"
    assert (weight.results[0].code, weight.results[0].value, weight.results[0].unit) == ("29463-7", 68.5, "kg")
    assert weight.patient.card_no == "C0012345"
    assert pulse.source_key == "urn:uuid:5e6f7a8b-0000-4000-8000-00000000b002"
    assert (pulse.results[0].value_text, pulse.results[0].value) == ("72", 72.0)


def test_lone_report_with_contained_patient_and_observations():
    report = only_report(load("cn_report_contained.json"))
    assert report.label == report.source_key == "DiagnosticReport/rpt-20240401-007"
    assert report.observed_at == datetime(2024, 4, 1, 8, 15, tzinfo=CST)  # effectivePeriod.start
    assert report.sender == "区医院检验科" and report.title == "肝功能+血糖"
    patient = report.patient
    assert (patient.card_no, patient.id_number, patient.name, patient.sex) == (
        "K778899", "110105195508201234", "王小明", "M")
    rows = by_code(report)
    assert (rows["ALT"].value, rows["ALT"].flag, rows["ALT"].ref_text) == (56.0, "H", "9-50")
    assert rows["ALT"].position == "contained Observation/alt"
    assert (rows["14771-0"].name, rows["14771-0"].flag) == ("空腹血糖", "LL")
    assert rows["14771-0"].observed_at == datetime(2024, 4, 1, 7, 45, tzinfo=CST)
    assert (rows["HBSAG"].value_text, rows["HBSAG"].status) == ("Negative", parsed.CANCELLED)
    assert (rows["UA"].value_text, rows["UA"].status) == ("", parsed.CANCELLED)


def test_searchset_panel_brings_its_members():
    report = only_report(load("searchset_panel.json"))
    assert report.source_key == "https://fhir.example.cn/lab/order|CBC-20240502-0031"
    assert report.title == "血常规"
    patient = report.patient
    assert (patient.card_no, patient.id_number, patient.name) == ("MRN-0042", "440305198506151238", "Li Na Chen")
    assert patient.birth_date is None and patient.sex == "F"  # "1985-06" is not a full date
    hb, wbc = report.results
    assert (hb.code, hb.value, hb.unit, hb.ref_low, hb.ref_high, hb.flag) == ("718-7", 118.0, "g/L", 130.0, 175.0, "L")
    assert (wbc.code, wbc.value, wbc.unit) == ("6690-2", 6.4, "10*9/L")  # reached through a versioned URL


def test_errors_per_entry_leave_the_rest():
    entries = load("errors_bundle.json")
    errors = {e.location: e.message for e in entries if isinstance(e, ParseError)}
    assert errors["entry 1 (DiagnosticReport/bad-result)"] == (
        "result 1 (Observation/bad-value): entry 2 (Observation/bad-value) is not valid FHIR R4 at "
        "valueQuantity.value: Value error, Decimal value string does not match spec regex.")
    assert errors["entry 3 (Observation/no-tz)"].startswith("not valid FHIR R4 at effectiveDateTime")
    assert errors["entry 4 (Observation/no-subject)"].startswith("no subject")
    assert errors["entry 5 (DiagnosticReport/missing-result)"] == (
        "result 1 (Observation/not-here) is not in the file")
    assert errors["entry 6 (Observation/group-subject)"] == "the subject is a Group, not a Patient"
    assert errors["entry 8 (DiagnosticReport/no-results)"] == "the report holds no results"
    assert "entry 2 (Observation/bad-value)" not in errors  # reported once, through its report
    [ok] = [e for e in entries if isinstance(e, ParsedReport)]
    assert ok.label == "entry 9 (Observation/ok)"
    assert (ok.patient.card_no, ok.patient.name) == ("C0012345", "张三")  # from the reference itself
    assert (ok.results[0].code, ok.results[0].value) == ("8302-2", 172.5)


def test_not_json_not_fhir_and_unsupported_types():
    assert parse_fhir(b"MSH|^~\\&|")[0].location == "file"
    assert "not JSON" in parse_fhir(b"{oops")[0].message
    assert parse_fhir(b'{"foo": 1}')[0].message == "not a FHIR resource: no resourceType"
    [error] = parse_fhir(json.dumps({"resourceType": "Patient", "id": "x"}).encode())
    assert error.location == "Patient" and "send a Bundle" in error.message
    [error] = parse_fhir(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "x"}}]}).encode())
    assert error.message == "the bundle holds no DiagnosticReport or Observation"


def test_amended_report_and_cancelled_report_statuses():
    observation = {"resourceType": "Observation", "id": "o", "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                   "subject": {"reference": "#p"}, "effectiveDateTime": "2024-03-05T08:00:00+08:00",
                   "valueQuantity": {"value": 6.8, "unit": "%"}}
    report = {"resourceType": "DiagnosticReport", "id": "r", "status": "cancelled", "code": {"text": "HbA1c"},
              "subject": {"reference": "#p"}, "contained": [{"resourceType": "Patient", "id": "p"}, observation],
              "result": [{"reference": "#o"}]}
    [parsed_report] = parse_fhir(json.dumps(report).encode())
    assert parsed_report.results[0].status == parsed.CANCELLED
    [single] = parse_fhir(json.dumps(dict(observation, status="amended", contained=[
        {"resourceType": "Patient", "id": "p", "identifier": [{"value": "C9"}]}])).encode())
    assert single.results[0].status == parsed.CORRECTED and single.patient.card_no == "C9"
