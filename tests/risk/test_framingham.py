"""Framingham general CVD (D'Agostino 2008) against a separate, plain
computation from the coefficients of D'Agostino 2008 (Circulation 2008;117:743), to three
significant figures."""
import math

import pytest

from app.risk.definitions import model
from app.risk.ranges import pick
from app.risk.services import compute, what_if

# D'Agostino 2008: ln age, ln TC, ln HDL, ln SBP untreated, ln SBP treated, smoker, diabetes, mean, S0
COEFFICIENTS = {
    "male": (3.06117, 1.12370, -0.93263, 1.93303, 1.99881, 0.65451, 0.57367, 23.9802, 0.88936),
    "female": (2.32888, 1.20904, -0.70833, 2.76157, 2.82263, 0.52873, 0.69154, 26.1931, 0.95012),
}


def by_hand(sex, age, tc_mmol, hdl_mmol, sbp, treated, smoker, diabetes):
    b_age, b_tc, b_hdl, b_sbp, b_sbp_treated, b_smoker, b_diabetes, mean, s0 = COEFFICIENTS[sex]
    total = (b_age * math.log(age) + b_tc * math.log(tc_mmol * 38.67) + b_hdl * math.log(hdl_mmol * 38.67)
             + (b_sbp_treated if treated else b_sbp) * math.log(sbp) + b_smoker * smoker + b_diabetes * diabetes)
    return 100 * (1 - s0 ** math.exp(total - mean))


def sig3(value):
    return float(f"{value:.3g}")


PROFILES = [
    ("female", 61, 180 / 38.67, 47 / 38.67, 124, False, True, False),
    ("male", 53, 161 / 38.67, 55 / 38.67, 125, True, False, True),
    ("male", 45, 5.2, 1.3, 130, False, False, False),
    ("female", 45, 5.2, 1.3, 130, False, False, False),
    ("male", 70, 6.8, 0.9, 165, True, True, True),
    ("female", 30, 4.0, 1.8, 105, False, False, False),
    ("female", 74, 7.5, 0.8, 190, True, True, True),
]


def inputs(sex, age, tc, hdl, sbp, treated, smoker, diabetes):
    return {"sex": sex, "age": age, "total_cholesterol": tc, "hdl_cholesterol": hdl, "systolic_bp": sbp,
            "bp_treated": treated, "smoker": smoker, "diabetes": diabetes}


@pytest.mark.parametrize("profile", PROFILES)
def test_risk_agrees_with_a_computation_by_hand_to_three_significant_figures(profile):
    result = compute("framingham_cvd", inputs(*profile))
    expected = by_hand(*profile)
    assert result["status"] == "ok" and result["unit"] == "%" and result["version"] == 1
    assert result["value"] == sig3(expected)


def test_only_one_systolic_term_applies():
    untreated = compute("framingham_cvd", inputs("male", 50, 5, 1.2, 140, False, False, False))["value"]
    treated = compute("framingham_cvd", inputs("male", 50, 5, 1.2, 140, True, False, False))["value"]
    assert treated > untreated
    assert treated == sig3(by_hand("male", 50, 5, 1.2, 140, True, False, False))


def test_contributions_are_each_terms_share_of_the_linear_sum():
    profile = ("male", 53, 161 / 38.67, 55 / 38.67, 125, True, False, True)
    shares = compute("framingham_cvd", inputs(*profile))["contributions"]
    b = COEFFICIENTS["male"]
    parts = {"age": b[0] * math.log(53), "total_cholesterol": b[1] * math.log(161),
             "hdl_cholesterol": b[2] * math.log(55), "systolic_bp": b[4] * math.log(125),
             "smoker": 0.0, "diabetes": b[6]}
    total = sum(parts.values())
    assert shares == {name: pytest.approx(part / total, abs=0.0006) for name, part in parts.items()}
    assert sum(shares.values()) == pytest.approx(1, abs=0.003) and shares["hdl_cholesterol"] < 0


@pytest.mark.parametrize("value, band", [(0.5, "low"), (9.99, "low"), (10, "intermediate"), (19.99, "intermediate"),
                                         (20, "high"), (64, "high")])
def test_band_edges(value, band):
    assert pick(model("framingham_cvd")["bands"], value)["code"] == band


def test_results_carry_their_band():
    assert compute("framingham_cvd", inputs(*PROFILES[5]))["band"] == "low"
    assert compute("framingham_cvd", inputs(*PROFILES[0]))["band"] == "intermediate"
    assert compute("framingham_cvd", inputs(*PROFILES[4]))["band"] == "high"


@pytest.mark.parametrize("age, inside", [(29, False), (30, True), (74, True), (75, False)])
def test_ages_outside_30_to_74_give_no_number(age, inside):
    result = compute("framingham_cvd", inputs("male", age, 5, 1.2, 130, False, False, False))
    if inside:
        assert result["status"] == "ok" and isinstance(result["value"], float)
    else:
        assert result["status"] == "outside_ages" and result["value"] is None and result["band"] is None
        assert "outside the model's ages (30-74" in result["note"]


def test_what_if_systolic_at_120():
    profile = inputs("male", 60, 6.0, 1.0, 150, False, True, False)
    outcome = what_if("framingham_cvd", profile, {"systolic_bp": 120})
    assert outcome["now"]["value"] == sig3(by_hand("male", 60, 6.0, 1.0, 150, False, True, False))
    assert outcome["then"]["value"] == sig3(by_hand("male", 60, 6.0, 1.0, 120, False, True, False))
    assert outcome["then"]["value"] < outcome["now"]["value"] and outcome["changes"] == {"systolic_bp": 120}
    stopped = what_if("framingham_cvd", profile, {"smoker": False, "systolic_bp": 120})["then"]["value"]
    assert stopped == sig3(by_hand("male", 60, 6.0, 1.0, 120, False, False, False))
