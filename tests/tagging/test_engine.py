"""The engine on crafted patients: every condition type, evaluated per
patient and set-based (the two must agree), with the evidence it keeps."""
from datetime import timedelta

import pytest

from app.tagging.sources import years_before
from tests.clock import clinic_today
from tests.tagging.conftest import group, leaf, only

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]

SBP, GLUCOSE, WAIST = "8480-6", "14771-0", "8280-0"


def test_latest_value_and_boundary(make_tenant, make_patient, give, make_rule, holds):
    t = make_tenant()
    at, below, above, none = (make_patient(t).id for _ in range(4))
    for patient, value in ((at, 140), (below, 139), (above, 141)):
        give(t, patient, SBP, value)
    rule = make_rule(t, only(leaf(SBP, ">=", 140)))
    assert holds(t, rule, [at, below, above, none]) == {at, above}
    strict = make_rule(t, only(leaf(SBP, ">", 140)), name="strict")
    assert holds(t, strict, [at, below, above, none]) == {above}


def test_only_the_latest_value_counts(make_tenant, make_patient, give, make_rule, holds):
    t = make_tenant()
    recovered, worse = make_patient(t).id, make_patient(t).id
    give(t, recovered, SBP, 160, days_ago=30)
    give(t, recovered, SBP, 120, days_ago=1)
    give(t, worse, SBP, 120, days_ago=30)
    give(t, worse, SBP, 160, days_ago=1)
    rule = make_rule(t, only(leaf(SBP, ">=", 140)))
    assert holds(t, rule, [recovered, worse]) == {worse}


def test_latest_within_days(make_tenant, make_patient, give, make_rule, holds):
    t = make_tenant()
    recent, old = make_patient(t).id, make_patient(t).id
    give(t, recent, SBP, 150, days_ago=10)
    give(t, old, SBP, 150, days_ago=100)
    rule = make_rule(t, only(leaf(SBP, ">=", 140, days=30)))
    assert holds(t, rule, [recent, old]) == {recent}
    wide = make_rule(t, only(leaf(SBP, ">=", 140, days=365)), name="wide")
    assert holds(t, wide, [recent, old]) == {recent, old}


def test_flag_of_latest_value(make_tenant, make_patient, give, make_rule, holds):
    t = make_tenant()
    high, critical, normal = make_patient(t).id, make_patient(t).id, make_patient(t).id
    give(t, high, "1742-6", 80, flag="H")  # ALT: the catalogue has no range, the lab's flag counts
    give(t, critical, "1742-6", 400, flag="HH")
    give(t, normal, "1742-6", 30, flag="N")
    rule = make_rule(t, only({"source": "indicator", "code": "1742-6", "measure": "flag", "flags": ["H", "HH"]}))
    assert holds(t, rule, [high, critical, normal]) == {high, critical}
    only_critical = make_rule(t, only({"source": "indicator", "code": "1742-6", "measure": "flag", "flags": ["HH"]}),
                              name="critical")
    assert holds(t, only_critical, [high, critical, normal]) == {critical}


def test_value_persisting_over_last_checkups(make_tenant, make_patient, give, make_rule, holds):
    t = make_tenant()
    steady, broken, short, old_break = (make_patient(t).id for _ in range(4))
    for patient, values in ((steady, (150, 145, 141)), (broken, (150, 130, 145)), (short, (150, 150)),
                            (old_break, (120, 150, 145, 141))):
        for days, value in zip((300, 200, 100, 10)[-len(values):], values):
            give(t, patient, SBP, value, days_ago=days)
    rule = make_rule(t, only(leaf(SBP, ">=", 140, measure="persist", count=3)))
    assert holds(t, rule, [steady, broken, short, old_break]) == {steady, old_break}


def test_change_since_previous_checkup(make_tenant, make_patient, give, make_rule, holds):
    t = make_tenant()
    rising, falling, single, small = (make_patient(t).id for _ in range(4))
    for patient, values in ((rising, (5.0, 6.5)), (falling, (6.5, 5.0)), (single, (6.5,)), (small, (5.0, 5.5))):
        for days, value in zip((200, 10)[-len(values):], values):
            give(t, patient, GLUCOSE, value, days_ago=days)
    absolute = make_rule(t, only(leaf(GLUCOSE, ">=", 1.0, measure="change")))
    assert holds(t, absolute, [rising, falling, single, small]) == {rising}
    percent = make_rule(t, only(leaf(GLUCOSE, ">=", 10, measure="change_pct")), name="pct")
    assert holds(t, percent, [rising, falling, single, small]) == {rising, small}
    drop = make_rule(t, only(leaf(GLUCOSE, "<=", -1.0, measure="change")), name="drop")
    assert holds(t, drop, [rising, falling, single, small]) == {falling}


@pytest.mark.parametrize("cmp,expected", [(">=", {"sixty", "old"}), (">", {"old"}), ("<", {"young"}),
                                          ("<=", {"young", "sixty"}), ("=", {"sixty"}), ("!=", {"young", "old"})])
def test_age_on_its_birthday(make_tenant, make_patient, make_rule, holds, cmp, expected):
    t = make_tenant()
    today = clinic_today()
    people = {"sixty": years_before(today, 60),                              # 60 today
              "young": years_before(today, 60) + timedelta(days=1),          # 60 tomorrow
              "old": years_before(today, 61)}                                # 61 today
    ids = {name: make_patient(t, birth_date=born).id for name, born in people.items()}
    rule = make_rule(t, only({"source": "age", "cmp": cmp, "value": 60}))
    assert holds(t, rule, list(ids.values())) == {ids[name] for name in expected}


def test_sex_and_central_obesity_groups(make_tenant, make_patient, give, make_rule, holds):
    t = make_tenant()
    man90, man85, woman85, woman80 = (make_patient(t, sex=s).id for s in "MMFF")
    for patient, waist in ((man90, 90), (man85, 85), (woman85, 85), (woman80, 80)):
        give(t, patient, WAIST, waist)
    tree = group("or", group("and", {"source": "sex", "choice": "M"}, leaf(WAIST, ">=", 90)),
                 group("and", {"source": "sex", "choice": "F"}, leaf(WAIST, ">=", 85)))
    rule = make_rule(t, tree)
    assert holds(t, rule, [man90, man85, woman85, woman80]) == {man90, woman85}
    women = make_rule(t, only({"source": "sex", "choice": "F"}), name="women")
    assert holds(t, women, [man90, man85, woman85, woman80]) == {woman85, woman80}


def test_health_history_items(app, make_tenant, make_patient, make_rule, holds):
    from app.patients import services as patients
    from app.patients.models import Patient
    from tenants.context import tenant_context
    from tenants.db import db

    t = make_tenant()
    hypertensive, family, none = make_patient(t).id, make_patient(t).id, make_patient(t).id
    with app.app_context(), tenant_context(t.id):
        patients.add_history(db.session.get(Patient, (t.id, hypertensive)), kind="illness", description="原发性高血压",
                             since_year=2015)
        patients.add_history(db.session.get(Patient, (t.id, family)), kind="family", description="父亲：高血压",
                             since_year=None)
        patients.add_history(db.session.get(Patient, (t.id, family)), kind="medication", description="100%_阿司匹林",
                             since_year=None)
        db.session.commit()
    everyone = [hypertensive, family, none]
    illness = make_rule(t, only({"source": "history", "kind": "illness", "text": "高血压"}))
    assert holds(t, illness, everyone) == {hypertensive}
    any_family = make_rule(t, only({"source": "history", "kind": "family", "text": ""}), name="family")
    assert holds(t, any_family, everyone) == {family}
    without = make_rule(t, only({"source": "history", "kind": "illness", "text": "高血压", "present": False}),
                        name="without")
    assert holds(t, without, everyone) == {family, none}
    literal = make_rule(t, only({"source": "history", "kind": "medication", "text": "0%_"}), name="literal")
    assert holds(t, literal, everyone) == {family}  # % and _ are matched as typed, not as wildcards
    wildcard = make_rule(t, only({"source": "history", "kind": "medication", "text": "1_0"}), name="wildcard")
    assert holds(t, wildcard, everyone) == set()


def test_lifestyle(app, make_tenant, make_patient, make_rule, holds):
    from app.patients import services as patients
    from app.patients.models import Patient
    from tenants.context import tenant_context
    from tenants.db import db

    t = make_tenant()
    smoker, quit_ = make_patient(t).id, make_patient(t).id
    with app.app_context(), tenant_context(t.id):
        for pid, smoking in ((smoker, "current"), (quit_, "former")):
            patients.set_lifestyle(db.session.get(Patient, (t.id, pid)), smoking=smoking, alcohol="", exercise="")
        db.session.commit()
    rule = make_rule(t, only({"source": "lifestyle", "habit": "smoking", "choice": "current"}))
    assert holds(t, rule, [smoker, quit_]) == {smoker}


def test_threshold_in_another_unit_is_converted(make_tenant, make_patient, give, make_rule, holds, tagged):
    t = make_tenant()
    high, low, reported_in_mg = make_patient(t).id, make_patient(t).id, make_patient(t).id
    give(t, high, GLUCOSE, 7.0)
    give(t, low, GLUCOSE, 6.9)
    give(t, reported_in_mg, GLUCOSE, 130, unit="mg/dL")  # 7.2 mmol/L
    rule = make_rule(t, only(leaf(GLUCOSE, ">=", 126, unit="mg/dL")), name="mg rule")  # 126 mg/dL = 6.99 mmol/L
    assert holds(t, rule, [high, low, reported_in_mg]) == {high, reported_in_mg}
    evidence = tagged(t, reported_in_mg)["mg rule"]["c0"]
    assert evidence["ok"] == 1 and abs(evidence["v"] - 130 * 0.055506) < 1e-6


def test_and_or_nesting_and_evidence_of_each_leaf(make_tenant, make_patient, give, make_rule, holds, tagged):
    t = make_tenant()
    both, one, neither = make_patient(t).id, make_patient(t).id, make_patient(t).id
    give(t, both, SBP, 150)
    give(t, both, GLUCOSE, 7.5)
    give(t, one, SBP, 150)
    give(t, neither, SBP, 110)
    give(t, neither, GLUCOSE, 5.0)
    all_of = make_rule(t, group("and", group("and", leaf(SBP, ">=", 140), leaf(GLUCOSE, ">=", 7.0))), name="and")
    any_of = make_rule(t, group("and", group("or", leaf(SBP, ">=", 140), leaf(GLUCOSE, ">=", 7.0))), name="or")
    assert holds(t, all_of, [both, one, neither]) == {both}
    assert holds(t, any_of, [both, one, neither]) == {both, one}
    evidence = tagged(t, one)["or"]
    assert evidence["c0"]["ok"] == 1 and evidence["c0"]["v"] == 150
    assert evidence["c1"]["ok"] == 0 and evidence["c1"]["v"] is None


def test_superseded_value_is_ignored(app, make_tenant, make_patient, give, make_rule, holds):
    """A corrected result replaces the earlier one at the same time."""
    t = make_tenant()
    patient = make_patient(t).id
    from tests.tagging.conftest import now

    NOW = now()

    give(t, patient, SBP, 150, when=NOW)
    give(t, patient, SBP, 125, when=NOW)  # same time, no report: supersedes 150
    rule = make_rule(t, only(leaf(SBP, ">=", 140)))
    assert holds(t, rule, [patient]) == set()
