"""Metabolic syndrome by the Chinese Diabetes Society criteria (guideline 2020): each cut-off on both sides,
three criteria make it, and an undecided result names what would decide it instead of guessing."""
import pytest

from app.risk.services import compute

# every input measured or recorded, no criterion met
CLEAR = {"sex": "male", "waist": 80, "fasting_glucose": 5.0, "systolic_bp": 118, "diastolic_bp": 76,
         "triglycerides": 1.2, "hdl_cholesterol": 1.3, "diabetes": False, "bp_treated": False}


def _met(changes: dict) -> int:
    result = compute("metabolic_syndrome", {**CLEAR, **changes})
    assert result["status"] == "ok", result
    return result["value"]


@pytest.mark.parametrize("changes, met", [
    ({"waist": 89.9}, 0), ({"waist": 90}, 1),
    ({"sex": "female", "waist": 84.9}, 0), ({"sex": "female", "waist": 85}, 1),
    ({"fasting_glucose": 6.09}, 0), ({"fasting_glucose": 6.1}, 1), ({"diabetes": True}, 1),
    ({"systolic_bp": 129}, 0), ({"systolic_bp": 130}, 1), ({"diastolic_bp": 84}, 0), ({"diastolic_bp": 85}, 1),
    ({"bp_treated": True}, 1), ({"systolic_bp": 135, "diastolic_bp": 88, "bp_treated": True}, 1),
    ({"triglycerides": 1.69}, 0), ({"triglycerides": 1.70}, 1),
    ({"hdl_cholesterol": 1.04}, 0), ({"hdl_cholesterol": 1.03}, 1),
])
def test_each_cut_off_on_both_sides(changes, met):
    assert _met(changes) == met


def test_three_criteria_make_it_and_two_do_not():
    two = compute("metabolic_syndrome", {**CLEAR, "waist": 95, "triglycerides": 2.0})
    three = compute("metabolic_syndrome", {**CLEAR, "waist": 95, "triglycerides": 2.0, "hdl_cholesterol": 0.9})
    assert (two["value"], two["band"]) == (2, "absent")
    assert (three["value"], three["band"]) == (3, "present")
    assert three["contributions"]["hdl_cholesterol"] == "criterion_met"
    assert three["contributions"]["systolic_bp"] == "criterion_not_met"


def test_missing_measurements_that_could_change_it_are_named():
    given = {"sex": "female", "waist": 88, "triglycerides": 1.9}  # two met, three unknown
    result = compute("metabolic_syndrome", given)
    assert result["status"] == "missing" and result["value"] is None and result["band"] is None
    assert result["missing"] == ["fasting_glucose", "systolic_bp", "diastolic_bp", "hdl_cholesterol"]


def test_a_result_that_unknowns_cannot_change_is_given():
    met_already = compute("metabolic_syndrome", {"sex": "male", "waist": 95, "triglycerides": 2.0,
                                                 "hdl_cholesterol": 0.9})
    assert (met_already["status"], met_already["band"]) == ("ok", "present")
    cannot_reach = compute("metabolic_syndrome", {"sex": "male", "waist": 80, "fasting_glucose": 5.0,
                                                  "systolic_bp": 118, "diastolic_bp": 70})
    assert (cannot_reach["status"], cannot_reach["band"], cannot_reach["value"]) == ("ok", "absent", 0)


def test_an_unrecorded_treatment_does_not_leave_it_undecided():
    given = {k: v for k, v in CLEAR.items() if k not in ("diabetes", "bp_treated")}
    result = compute("metabolic_syndrome", given)
    assert (result["status"], result["band"], result["value"]) == ("ok", "absent", 0)
