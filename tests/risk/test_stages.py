"""Weight status and central obesity (WS/T 428-2013), blood-pressure
category (Chinese hypertension guideline 2018), KDIGO GFR category with the
CKD-EPI 2021 equation, and KDIGO albuminuria category: every edge, both sides."""
import pytest

from app.risk.services import compute


@pytest.mark.parametrize("bmi, band", [(18.4, "underweight"), (18.5, "normal"), (23.9, "normal"), (24.0, "overweight"),
                                       (27.9, "overweight"), (28.0, "obese"), (40, "obese")])
def test_weight_status_edges(bmi, band):
    result = compute("weight_status", {"bmi": bmi})
    assert result["band"] == band and result["value"] == bmi and result["contributions"] == {"bmi": band}


@pytest.mark.parametrize("sex, waist, band", [
    ("male", 84.9, "normal"), ("male", 85, "pre_central_obesity"), ("male", 89.9, "pre_central_obesity"),
    ("male", 90, "central_obesity"), ("female", 79.9, "normal"), ("female", 80, "pre_central_obesity"),
    ("female", 84.9, "pre_central_obesity"), ("female", 85, "central_obesity"),
])
def test_central_obesity_edges_by_sex(sex, waist, band):
    assert compute("central_obesity", {"sex": sex, "waist": waist})["band"] == band


@pytest.mark.parametrize("systolic, band", [(119, "normal"), (120, "high_normal"), (139, "high_normal"),
                                            (140, "grade_1"), (159, "grade_1"), (160, "grade_2"), (179, "grade_2"),
                                            (180, "grade_3")])
def test_systolic_edges(systolic, band):
    result = compute("bp_grade", {"systolic_bp": systolic, "diastolic_bp": 70})
    assert result["band"] == band and result["contributions"]["systolic_bp"] == band


@pytest.mark.parametrize("diastolic, band", [(79, "normal"), (80, "high_normal"), (89, "high_normal"), (90, "grade_1"),
                                             (99, "grade_1"), (100, "grade_2"), (109, "grade_2"), (110, "grade_3")])
def test_diastolic_edges(diastolic, band):
    assert compute("bp_grade", {"systolic_bp": 110, "diastolic_bp": diastolic})["band"] == band


def test_the_higher_of_the_two_categories_is_the_category():
    result = compute("bp_grade", {"systolic_bp": 150, "diastolic_bp": 101})
    assert result["band"] == "grade_2" and result["value"] == "150/101"
    assert result["contributions"] == {"systolic_bp": "grade_1", "diastolic_bp": "grade_2"}
    assert compute("bp_grade", {"systolic_bp": 185, "diastolic_bp": 85})["band"] == "grade_3"


def ckd_epi_by_hand(creatinine_umol, age, female):
    scr = creatinine_umol / 88.4
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    egfr = 142 * min(scr / kappa, 1) ** alpha * max(scr / kappa, 1) ** -1.200 * 0.9938 ** age
    return egfr * 1.012 if female else egfr


def test_the_check_value_of_clinical_md():
    """Male, 55 years, creatinine 1.2 mg/dL: about 71."""
    result = compute("ckd_egfr_stage", {"creatinine": 1.2 * 88.4, "age": 55, "sex": "male"})
    assert round(result["value"]) == 71 and result["band"] == "G2"
    assert result["contributions"] == {"egfr": "CKD-EPI 2021"} and result["unit"] == "mL/min/1.73m2"


@pytest.mark.parametrize("creatinine, age, sex", [(60, 30, "female"), (62, 45, "female"), (75, 70, "female"),
                                                  (140, 62, "female"), (70, 25, "male"), (80, 40, "male"),
                                                  (106, 55, "male"), (250, 68, "male"), (500, 50, "female")])
def test_egfr_agrees_with_a_computation_by_hand_to_three_significant_figures(creatinine, age, sex):
    value = compute("ckd_egfr_stage", {"creatinine": creatinine, "age": age, "sex": sex})["value"]
    expected = ckd_epi_by_hand(creatinine, age, sex == "female")
    assert f"{value:.3g}" == f"{expected:.3g}"


@pytest.mark.parametrize("egfr, band", [(120, "G1"), (90, "G1"), (89.9, "G2"), (60, "G2"), (59.9, "G3a"), (45, "G3a"),
                                        (44.9, "G3b"), (30, "G3b"), (29.9, "G4"), (15, "G4"), (14.9, "G5"), (5, "G5")])
def test_gfr_category_edges(egfr, band):
    result = compute("ckd_egfr_stage", {"egfr": egfr})
    assert result["band"] == band and result["contributions"] == {"egfr": "given"}


def test_a_given_egfr_wins_over_creatinine():
    result = compute("ckd_egfr_stage", {"egfr": 50, "creatinine": 60, "age": 40, "sex": "female"})
    assert result["value"] == 50 and result["band"] == "G3a"


def test_without_egfr_creatinine_age_and_sex_are_needed():
    result = compute("ckd_egfr_stage", {"creatinine": 90})
    assert result["status"] == "missing" and result["missing"] == ["age", "sex"] and result["band"] is None
    assert compute("ckd_egfr_stage", {})["missing"] == ["egfr"]


@pytest.mark.parametrize("acr, band", [(0, "A1"), (29.9, "A1"), (30, "A2"), (300, "A2"), (300.1, "A3"), (2500, "A3")])
def test_albuminuria_category_edges(acr, band):
    assert compute("ckd_albuminuria", {"urine_acr": acr})["band"] == band
