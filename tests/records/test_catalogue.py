"""The indicator pack (issue 13, item 1): what it holds, how it reaches clinics, and admins' own limits."""
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.patients.models import Patient
from app.records import catalogue
from app.records import services as records
from app.records.models import GROUPS, KINDS, Indicator, IndicatorVersion
from tenants.context import tenant_context
from tenants.db import db

PACK = json.loads((Path(__file__).resolve().parents[2] / "tenants" / "packs" / "indicators.json").read_text("utf-8"))
CREATININE, HAEMOGLOBIN, ALT, AST, GGT, TSH = "14682-9", "718-7", "1742-6", "1920-8", "2324-2", "3016-3"
SBP, DBP, GLUCOSE, POTASSIUM, ECG = "8480-6", "8462-4", "14771-0", "2823-3", "11524-6"
WHEN = datetime(2024, 7, 1, 2, 0, tzinfo=timezone.utc)


def _loinc_check_digit(body: str) -> int:
    """LOINC's mod-10 check digit of the code's digits before the hyphen."""
    digits = [int(d) for d in reversed(body)]
    odd = "".join(str(d) for d in digits[0::2])
    even = "".join(str(d) for d in digits[1::2])
    total = sum(int(c) for c in even + str(int(odd) * 2))
    return (10 - total % 10) % 10


def test_every_pack_entry_is_complete_and_every_range_names_its_source():
    codes = set()
    for entry in PACK["indicators"]:
        code = entry["code"]
        assert code not in codes, code
        codes.add(code)
        body, check = re.fullmatch(r"(\d{1,6})-(\d)", code).groups()
        assert _loinc_check_digit(body) == int(check), f"{code}: not a LOINC code (check digit)"
        assert entry["name_zh"].strip() and entry["name_en"].strip(), code
        assert entry["group"] in GROUPS and entry.get("kind", "numeric") in KINDS, code
        assert isinstance(entry["decimals"], int) and 0 <= entry["decimals"] <= 4, code
        for alias in entry.get("aliases", {}):
            assert re.fullmatch(r"\d{1,6}-\d", alias), alias
        if entry.get("kind") == "coded":
            assert entry["unit"] == "" and not entry.get("ranges") and not entry.get("critical") \
                and not entry.get("plausible"), code
            continue
        plausible = entry["plausible"]
        assert plausible["low"] < plausible["high"], code
        for unit, factor in entry.get("alt_units", {}).items():
            assert factor > 0 and unit != entry["unit"], code
        for rule in entry["ranges"]:
            assert rule["source"].strip(), code
            assert "[R]" not in rule["source"], f"{code}: a recalled number may not ship"
            assert rule.get("low") is not None or rule.get("high") is not None, code
            if rule.get("low") is not None and rule.get("high") is not None:
                assert rule["low"] < rule["high"], code
            assert plausible["low"] <= rule.get("low", plausible["low"]) and \
                rule.get("high", plausible["high"]) <= plausible["high"], code
        if entry.get("critical"):
            assert entry["critical"]["source"].strip(), code
    assert {CREATININE, HAEMOGLOBIN, ALT, AST, GGT, TSH, ECG} <= codes


def _ranges(code):
    return next(e for e in PACK["indicators"] if e["code"] == code)["ranges"]


def test_haemoglobin_and_the_liver_enzymes_have_ranges_from_the_chinese_standards():
    assert {(r["sex"], r["low"], r["high"]) for r in _ranges(HAEMOGLOBIN)} == {("M", 130, 175), ("F", 115, 150)}
    assert all(r["source"].startswith("WS/T 405-2012") for r in _ranges(HAEMOGLOBIN))
    for code in (ALT, AST, GGT, CREATININE):
        assert _ranges(code) and all(r["source"].startswith("WS/T 404.") for r in _ranges(code)), code
    assert _ranges(TSH) == []  # no checked source yet: the lab's printed range flags it (docs/indicators.md)


def _patient(app, tenant, made):
    return db.session.get(Patient, (tenant.id, made.id))


def test_a_creatinine_of_150_for_a_man_of_40_is_flagged_high_from_the_catalogue(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant, sex="M", birth_date=date(1984, 3, 1))
    with app.app_context(), tenant_context(tenant.id):
        patient = _patient(app, tenant, made)
        creatinine = records.indicator_by_code(CREATININE)
        stored = records.store(patient, records.Value(creatinine, "150", "umol/L", WHEN)).observation
        assert (stored.flag, stored.flag_source) == ("H", "catalogue")
        in_mg = records.store(patient, records.Value(creatinine, "0.9", "mg/dL", WHEN.replace(day=2))).observation
        assert (in_mg.flag, round(in_mg.value)) == ("N", 80)
        haemoglobin = records.store(patient, records.Value(records.indicator_by_code(HAEMOGLOBIN), "12.1", "g/dL",
                                                           WHEN)).observation
        assert (haemoglobin.flag, haemoglobin.value) == ("L", 121)


def test_grade_3_blood_pressure_is_critical_and_coded_conclusions_are_left_alone(app, make_tenant, make_patient):
    tenant = make_tenant()
    made = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = _patient(app, tenant, made)
        sbp, dbp, ecg = (records.indicator_by_code(c) for c in (SBP, DBP, ECG))
        stored = [s.observation for s in records.store_many(patient, [
            records.Value(sbp, "185", "mmHg", WHEN), records.Value(dbp, "112", "mmHg", WHEN),
            records.Value(ecg, "窦性心律，ST段改变", "", WHEN), records.Value(ecg, "1", "次", WHEN.replace(day=2))])]
        assert [(o.flag, o.flag_source) for o in stored[:2]] == [("HH", "critical"), ("HH", "critical")]
        assert (stored[2].value, stored[2].value_text, stored[2].flag) == (None, "窦性心律，ST段改变", "")
        assert stored[3].flag == ""  # a number with an odd unit in a coded result is not converted or flagged


def _forget_fingerprints(codes):
    """As a clinic set up before the pack kept fingerprints, with the old pack's empty ranges."""
    for indicator in db.session.scalars(select(Indicator).where(Indicator.code.in_(codes))):
        indicator.ranges, indicator.pack_fingerprint, indicator.plausible = [], "", {}


def test_a_pack_update_reaches_indicators_the_clinic_has_not_edited(app, make_tenant):
    tenant, other = make_tenant(), make_tenant()
    with app.app_context(), tenant_context(tenant.id):
        assert catalogue.sync_pack().added == 0  # created with the pack: nothing to do
        _forget_fingerprints([CREATININE, HAEMOGLOBIN, ALT, GGT])
        alt = records.indicator_by_code(ALT)
        catalogue.save_limits(alt, catalogue.LimitsInput(ranges=[catalogue.RangeInput(high="45")],
                                                         source="our lab's kit insert"), None)
        ggt = records.indicator_by_code(GGT)
        ggt.pack_fingerprint = catalogue.fingerprint({name: getattr(ggt, name) for name in catalogue.PACK_FIELDS})
        ggt.ranges = [{"high": 50, "source": "changed by hand"}]  # differs from what it was set from
        local = catalogue.add_local("LOCAL-1", "本院项目", "", "mg/L", "other")
        glucose = records.indicator_by_code(GLUCOSE)
        db.session.delete(glucose)
        db.session.commit()
        outcome = catalogue.sync_pack()
        db.session.commit()
        assert (outcome.added, sorted(outcome.kept)) == (1, [ALT, GGT])
        assert outcome.updated == 2  # creatinine and haemoglobin
        assert records.indicator_by_code(CREATININE).ranges == _ranges(CREATININE)
        assert records.indicator_by_code(HAEMOGLOBIN).plausible == {"low": 10, "high": 260}
        assert records.indicator_by_code(ALT).ranges == [{"high": 45, "source": "our lab's kit insert"}]
        assert records.indicator_by_code(GGT).ranges == [{"high": 50, "source": "changed by hand"}]
        assert records.indicator_by_code("LOCAL-1").id == local.id and records.indicator_by_code(GLUCOSE)
        again = catalogue.sync_pack()
        assert (again.added, again.updated) == (0, 0)
    with app.app_context(), tenant_context(other.id):
        assert records.indicator_by_code(ALT).ranges == _ranges(ALT)


def test_the_update_command_runs_in_every_clinic(app, make_tenant):
    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.id):
        _forget_fingerprints([CREATININE])
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["records", "catalogue-update", "--all"])
    assert result.exit_code == 0, result.output
    assert f"{tenant.slug}: added 0 indicators, updated 1, kept 0 edited" in result.output
    with app.app_context(), tenant_context(tenant.id):
        assert records.indicator_by_code(CREATININE).ranges == _ranges(CREATININE)
    assert app.test_cli_runner().invoke(args=["records", "catalogue-update"]).exit_code != 0


def _form(**fields):
    data = {"ranges-0-sex": "M", "ranges-0-age_min": "18", "ranges-0-age_max": "", "ranges-0-low": "60",
            "ranges-0-high": "110", "critical_low": "", "critical_high": "", "plausible_low": "5",
            "plausible_high": "3000", "source": "本院检验科 2026 试剂说明书"}
    data.update(fields)
    return data


def _indicator_id(app, tenant, code):
    with app.app_context(), tenant_context(tenant.id):
        return records.indicator_by_code(code).id


def test_an_admin_edits_ranges_each_save_is_a_version_and_new_values_follow_it(
        app, make_tenant, make_patient, client_for, make_staff):
    tenant, other = make_tenant(), make_tenant()
    made = make_patient(tenant, sex="M", birth_date=date(1984, 3, 1))
    client = client_for(tenant, tenant.owner_email)
    url = f"/records/indicators/{_indicator_id(app, tenant, CREATININE)}"
    page = client.get(url).get_data(as_text=True)
    assert "WS/T 404.5-2015" in page and 'value="57"' in page
    answer = client.submit(url, _form())
    assert answer.status_code == 302
    answer = client.submit(url, _form(**{"ranges-0-high": "120", "critical_high": "500",
                                         "source": "second thoughts"}))
    assert answer.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "second thoughts" in page and "本院检验科 2026 试剂说明书" in page
    assert "男性, 18–… 岁:" in page and "5–3000" in page and "&gt;500" in page  # ranges, possible values, critical
    with app.app_context(), tenant_context(tenant.id):
        creatinine = records.indicator_by_code(CREATININE)
        assert [(v.version, v.source_note) for v in catalogue.versions(creatinine.id)] == [
            (2, "second thoughts"), (1, "本院检验科 2026 试剂说明书")]
        assert creatinine.ranges == [{"sex": "M", "age_min": 18, "low": 60, "high": 120, "source": "second thoughts"}]
        assert creatinine.critical == {"high": 500, "low_inclusive": False, "high_inclusive": False,
                                       "source": "second thoughts"}
        assert creatinine.plausible == {"low": 5, "high": 3000}
        patient = _patient(app, tenant, made)
        assert records.store(patient, records.Value(creatinine, "115", "umol/L", WHEN)).observation.flag == "N"
        assert records.store(patient, records.Value(creatinine, "121", "umol/L",
                                                    WHEN.replace(day=3))).observation.flag == "H"
        assert records.store(patient, records.Value(creatinine, "501", "umol/L",
                                                    WHEN.replace(day=4))).observation.flag == "HH"
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "indicator_limits_saved")))
        assert [e.detail["version"] for e in sorted(events, key=lambda e: e.detail["version"])] == [1, 2]
    with app.app_context(), tenant_context(other.id):
        assert records.indicator_by_code(CREATININE).ranges == _ranges(CREATININE)
        assert db.session.scalar(select(IndicatorVersion.id)) is None
    doctor = make_staff(tenant, "doctor")
    assert client_for(tenant, doctor.email).get(url).status_code == 403
    stranger = client_for(other, other.owner_email)
    assert stranger.get(url).status_code == 404


@pytest.mark.parametrize("fields, field_name, message", [
    ({"ranges-0-low": "120", "ranges-0-high": "110"}, "ranges-0-high", "The upper limit must be above"),
    ({"ranges-0-low": "sixty"}, "ranges-0-low", "Enter a number, e.g. 3.5."),
    ({"ranges-0-low": "inf"}, "ranges-0-low", "Enter a number, e.g. 3.5."),
    ({"ranges-0-age_min": "70", "ranges-0-age_max": "20"}, "ranges-0-age_max", "The upper age must not be below"),
    ({"source": "  "}, "source", "Name the source of these values"),
    ({"critical_low": "9", "critical_high": "3"}, "critical_high", "The upper limit must be above the lower limit."),
    ({"plausible_low": "1e5x"}, "plausible_low", "Enter a number, e.g. 3.5."),
])
def test_bad_input_is_named_next_to_its_field_and_the_typing_is_kept(app, make_tenant, client_for, fields,
                                                                     field_name, message):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    url = f"/records/indicators/{_indicator_id(app, tenant, CREATININE)}"
    answer = client.submit(url, _form(**fields))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f'id="{field_name}-error"' in page and message in page.split(f'id="{field_name}-error"')[1][:200]
    for name, value in fields.items():
        if value.strip():
            assert f'value="{value}"' in page or f">{value}<" in page, name
    with app.app_context(), tenant_context(tenant.id):
        assert catalogue.versions(records.indicator_by_code(CREATININE).id) == []
        assert records.indicator_by_code(CREATININE).ranges == _ranges(CREATININE)
