"""Each default rule at its guideline's boundaries, for a new clinic."""
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.postgres

SBP, DBP, BMI, WAIST, FPG, A1C = "8480-6", "8462-4", "39156-5", "8280-0", "14771-0", "4548-4"
TC, LDL, HDL, TG, UA, EGFR = "14647-2", "22748-8", "14646-4", "14927-8", "14933-6", "98979-8"

# rule key -> [(sex, {code: value}, tagged?)]
CASES = {
    "high_normal_bp": [("M", {SBP: 119, DBP: 79}, False), ("M", {SBP: 120, DBP: 79}, True),
                       ("M", {SBP: 110, DBP: 80}, True), ("M", {SBP: 139, DBP: 89}, True),
                       ("M", {SBP: 140, DBP: 85}, False), ("M", {SBP: 130, DBP: 90}, False)],
    "hypertension_range": [("M", {SBP: 139, DBP: 89}, False), ("M", {SBP: 140, DBP: 70}, True),
                           ("M", {SBP: 120, DBP: 90}, True), ("F", {SBP: 185, DBP: 115}, True)],
    "overweight": [("M", {BMI: 23.9}, False), ("M", {BMI: 24.0}, True), ("M", {BMI: 27.9}, True),
                   ("M", {BMI: 28.0}, False)],
    "obesity": [("M", {BMI: 27.9}, False), ("M", {BMI: 28.0}, True)],
    "central_obesity": [("M", {WAIST: 89.9}, False), ("M", {WAIST: 90}, True), ("F", {WAIST: 84.9}, False),
                        ("F", {WAIST: 85}, True), ("M", {WAIST: 85}, False)],
    "impaired_fasting_glucose": [("M", {FPG: 6.0}, False), ("M", {FPG: 6.1}, True), ("M", {FPG: 6.99}, True),
                                 ("M", {FPG: 7.0}, False)],
    "diabetes_range": [("M", {FPG: 6.99}, False), ("M", {FPG: 7.0}, True), ("M", {A1C: 6.4}, False),
                       ("M", {A1C: 6.5}, True)],
    "dyslipidaemia": [("M", {TC: 6.19, LDL: 4.09, HDL: 1.0, TG: 2.29}, False), ("M", {TC: 6.2}, True),
                      ("M", {LDL: 4.1}, True), ("M", {HDL: 0.99}, True), ("M", {TG: 2.3}, True)],
    "hyperuricaemia": [("M", {UA: 420}, False), ("F", {UA: 421}, True)],
    "reduced_egfr": [("M", {EGFR: 60}, False), ("M", {EGFR: 59}, True)],
}


def test_pack_has_the_ten_rules_with_sources():
    pack = json.loads((Path(__file__).resolve().parents[2] / "tenants/packs/tag_rules.json").read_text("utf-8"))
    assert sorted(r["key"] for r in pack["rules"]) == sorted(CASES)
    assert all(re.search(r"(19|20)\d\d", r["source"]) for r in pack["rules"])  # a guideline and its year


def test_new_clinic_gets_the_pack_once(app, make_tenant):
    from app.tagging import rules
    from app.tagging.models import TagRule

    t = make_tenant()
    with app.app_context(), tenant_context(t.id):
        keys = sorted(db.session.scalars(select(TagRule.pack_key)))
        assert keys == sorted(CASES)
        assert rules.install_pack() == 0  # nothing twice
        for rule in rules.list_rules():  # every pack rule passes the same checks as the form
            assert rules.check(rules.RuleDraft(rule.name, "x", rule.condition)) == rule.condition


def test_pack_rules_at_their_boundaries(app, make_tenant, make_patient, give, holds):
    from app.tagging.models import TagRule

    t = make_tenant()
    with app.app_context(), tenant_context(t.id):
        rule_ids = {r.pack_key: r.id for r in db.session.scalars(select(TagRule))}
    everyone, expected = [], {key: set() for key in CASES}
    for key, cases in CASES.items():
        for sex, values, tagged in cases:
            patient = make_patient(t, sex=sex).id
            everyone.append(patient)
            for code, value in values.items():
                give(t, patient, code, value)
            if tagged:
                expected[key].add(patient)
    tagged_by = holds(t, None, everyone)
    for key, rule_id in rule_ids.items():
        got = tagged_by.get(rule_id, set())
        # a patient of another rule's case may also meet this rule: check this rule's own cases
        own = {p for p in got if p in _case_patients(everyone, key)}
        assert own == expected[key], key
    # and across rules: a BP of 185/115 is in the hypertension range, not high-normal
    assert not expected["high_normal_bp"] & expected["hypertension_range"]


def _case_patients(everyone, key):
    start = sum(len(c) for k, c in CASES.items() if list(CASES).index(k) < list(CASES).index(key))
    return set(everyone[start:start + len(CASES[key])])
