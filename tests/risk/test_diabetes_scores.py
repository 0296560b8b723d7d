"""FINDRISC and the new Chinese Diabetes Risk Score: every item's edges on
both sides, every band edge, and totals against a plain re-count."""
import pytest

from app.risk.services import compute

FINDRISC_BASE = {"sex": "male", "age": 40, "bmi": 22.0, "waist": 80.0, "active_30min_daily": True,
                 "vegetables_daily": True, "bp_medication_ever": False, "high_glucose_ever": False,
                 "family_diabetes": "none"}


def findrisc(**changes):
    return compute("findrisc", {**FINDRISC_BASE, **changes})


def findrisc_by_hand(sex, age, bmi, waist, active, vegetables, bp_medication, high_glucose, family):
    points = 0 if age < 45 else 2 if age <= 54 else 3 if age <= 64 else 4
    points += 0 if bmi < 25 else 1 if bmi <= 30 else 3
    if sex == "male":
        points += 0 if waist < 94 else 3 if waist <= 102 else 4
    else:
        points += 0 if waist < 80 else 3 if waist <= 88 else 4
    points += (0 if active else 2) + (0 if vegetables else 1) + (2 if bp_medication else 0) + (5 if high_glucose else 0)
    return points + {"none": 0, "second_degree": 3, "first_degree": 5}[family]


@pytest.mark.parametrize("name, value, points", [
    ("age", 44, 0), ("age", 45, 2), ("age", 54, 2), ("age", 55, 3), ("age", 64, 3), ("age", 65, 4),
    ("bmi", 24.9, 0), ("bmi", 25, 1), ("bmi", 30, 1), ("bmi", 30.1, 3),
    ("waist", 93.9, 0), ("waist", 94, 3), ("waist", 102, 3), ("waist", 102.1, 4),
    ("active_30min_daily", False, 2), ("vegetables_daily", False, 1), ("bp_medication_ever", True, 2),
    ("high_glucose_ever", True, 5), ("family_diabetes", "second_degree", 3), ("family_diabetes", "first_degree", 5),
])
def test_findrisc_item_edges(name, value, points):
    assert findrisc(**{name: value})["contributions"][name] == points


@pytest.mark.parametrize("waist, points", [(79.9, 0), (80, 3), (88, 3), (88.1, 4)])
def test_findrisc_waist_edges_for_women(waist, points):
    assert findrisc(sex="female", waist=waist)["contributions"]["waist"] == points


@pytest.mark.parametrize("changes, total, band", [
    ({}, 0, "low"),
    ({"high_glucose_ever": True, "active_30min_daily": False}, 7, "slightly_elevated"),
    ({"high_glucose_ever": True}, 5, "low"),
    ({"high_glucose_ever": True, "active_30min_daily": False, "vegetables_daily": False}, 8, "slightly_elevated"),
    ({"high_glucose_ever": True, "family_diabetes": "first_degree", "vegetables_daily": False}, 11,
     "slightly_elevated"),
    ({"high_glucose_ever": True, "family_diabetes": "first_degree", "active_30min_daily": False}, 12, "moderate"),
    ({"high_glucose_ever": True, "family_diabetes": "first_degree", "age": 60, "bmi": 26}, 14, "moderate"),
    ({"high_glucose_ever": True, "family_diabetes": "first_degree", "age": 60, "active_30min_daily": False}, 15,
     "high"),
    ({"high_glucose_ever": True, "family_diabetes": "first_degree", "age": 70, "waist": 100,
      "bp_medication_ever": True, "vegetables_daily": False}, 20, "high"),
    ({"high_glucose_ever": True, "family_diabetes": "first_degree", "age": 70, "waist": 100,
      "bp_medication_ever": True, "vegetables_daily": False, "bmi": 27}, 21, "very_high"),
    ({"high_glucose_ever": True, "family_diabetes": "first_degree", "age": 70, "waist": 110, "bmi": 35,
      "bp_medication_ever": True, "vegetables_daily": False, "active_30min_daily": False}, 26, "very_high"),
])
def test_findrisc_totals_and_band_edges(changes, total, band):
    given = {**FINDRISC_BASE, **changes}
    result = compute("findrisc", given)
    assert result["value"] == total == findrisc_by_hand(*given.values())
    assert result["band"] == band and result["unit"] == "points"


def test_findrisc_has_no_age_limit_in_its_source():
    assert findrisc(age=18)["status"] == "ok" and findrisc(age=90)["value"] == 4


CDRS_BASE = {"sex": "female", "age": 22, "systolic_bp": 100, "bmi": 20.0, "waist": 65.0, "family_diabetes": False}


def cdrs(**changes):
    return compute("chinese_diabetes_risk", {**CDRS_BASE, **changes})


def cdrs_by_hand(sex, age, sbp, bmi, waist, family):
    ages = [(25, 0), (35, 4), (40, 8), (45, 11), (50, 12), (55, 13), (60, 15), (65, 16), (75, 18)]
    points = next(p for limit, p in ages if age < limit)
    pressures = [(110, 0), (120, 1), (130, 3), (140, 6), (150, 7), (160, 8), (999, 10)]
    points += next(p for limit, p in pressures if sbp < limit)
    points += next(p for limit, p in [(22, 0), (24, 1), (30, 3), (999, 5)] if bmi < limit)
    start = 75 if sex == "male" else 70
    points += next(p for limit, p in zip([*range(start, start + 25, 5), 999], [0, 3, 5, 7, 8, 10]) if waist < limit)
    return points + (6 if family else 0) + (2 if sex == "male" else 0)


@pytest.mark.parametrize("name, value, points", [
    ("age", 20, 0), ("age", 24, 0), ("age", 25, 4), ("age", 34, 4), ("age", 35, 8), ("age", 39, 8), ("age", 40, 11),
    ("age", 44, 11), ("age", 45, 12), ("age", 49, 12), ("age", 50, 13), ("age", 54, 13), ("age", 55, 15),
    ("age", 59, 15), ("age", 60, 16), ("age", 64, 16), ("age", 65, 18), ("age", 74, 18),
    ("systolic_bp", 109, 0), ("systolic_bp", 110, 1), ("systolic_bp", 119, 1), ("systolic_bp", 120, 3),
    ("systolic_bp", 129, 3), ("systolic_bp", 130, 6), ("systolic_bp", 139, 6), ("systolic_bp", 140, 7),
    ("systolic_bp", 149, 7), ("systolic_bp", 150, 8), ("systolic_bp", 159, 8), ("systolic_bp", 160, 10),
    ("bmi", 21.9, 0), ("bmi", 22, 1), ("bmi", 23.9, 1), ("bmi", 24, 3), ("bmi", 29.9, 3), ("bmi", 30, 5),
    ("waist", 69.9, 0), ("waist", 70, 3), ("waist", 74.9, 3), ("waist", 75, 5), ("waist", 79.9, 5), ("waist", 80, 7),
    ("waist", 84.9, 7), ("waist", 85, 8), ("waist", 89.9, 8), ("waist", 90, 10),
    ("family_diabetes", True, 6),
])
def test_chinese_score_item_edges(name, value, points):
    assert cdrs(**{name: value})["contributions"][name] == points


@pytest.mark.parametrize("waist, points", [(74.9, 0), (75, 3), (79.9, 3), (80, 5), (84.9, 5), (85, 7), (89.9, 7),
                                           (90, 8), (94.9, 8), (95, 10)])
def test_chinese_score_waist_edges_for_men(waist, points):
    result = cdrs(sex="male", waist=waist)
    assert result["contributions"]["waist"] == points and result["contributions"]["sex"] == 2


@pytest.mark.parametrize("changes, total, band", [
    ({}, 0, "below_cutoff"),
    ({"age": 60, "family_diabetes": True, "systolic_bp": 120}, 25, "refer"),
    ({"age": 60, "family_diabetes": True, "systolic_bp": 115}, 23, "below_cutoff"),
    ({"age": 60, "family_diabetes": True, "bmi": 22, "systolic_bp": 115}, 24, "below_cutoff"),
    ({"sex": "male", "age": 70, "systolic_bp": 170, "bmi": 31, "waist": 100, "family_diabetes": True}, 51, "refer"),
])
def test_chinese_score_totals_and_the_referral_edge(changes, total, band):
    given = {**CDRS_BASE, **changes}
    result = compute("chinese_diabetes_risk", given)
    assert result["value"] == total == cdrs_by_hand(*given.values()) and result["band"] == band


@pytest.mark.parametrize("age, status", [(19, "outside_ages"), (20, "ok"), (74, "ok"), (75, "outside_ages")])
def test_chinese_score_ages_20_to_74(age, status):
    result = cdrs(age=age)
    assert result["status"] == status
    assert (result["value"] is None) == (status == "outside_ages")
