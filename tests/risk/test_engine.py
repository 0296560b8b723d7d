"""What every model shares: the packs' shape, missing inputs never guessed,
inputs of the wrong type refused, what-if limited to modifiable factors."""
import pytest

from app.risk.services import RiskInputError, UnknownModel, all_models, compute, what_if

SHIPPED = {"framingham_cvd", "findrisc", "chinese_diabetes_risk", "weight_status", "central_obesity", "bp_grade",
           "ckd_egfr_stage", "ckd_albuminuria", "metabolic_syndrome"}


def test_the_shipped_models_each_cite_a_source_and_say_where_inputs_come_from():
    models = all_models()
    assert set(models) == SHIPPED
    for definition in models.values():
        assert definition["source"] and definition["version"] >= 1
        assert definition["name"]["zh"] and definition["name"]["en"]
        for spec in definition["inputs"]:
            assert spec["from"], spec["name"]
            if spec["type"] in ("number", "integer"):
                assert spec["unit"], spec["name"]
    assert "china_par" not in models


@pytest.mark.parametrize("model_id", sorted(SHIPPED))
def test_with_nothing_given_every_required_input_is_listed_and_nothing_is_computed(model_id):
    result = compute(model_id, {})
    assert result["status"] == "missing" and result["missing"]
    assert result["value"] is None and result["band"] is None and result["contributions"] == {}


def test_one_missing_input_is_named_and_null_counts_as_missing():
    given = {"sex": "male", "age": 50, "total_cholesterol": 5.0, "hdl_cholesterol": None, "systolic_bp": 130,
             "bp_treated": False, "smoker": False}
    result = compute("framingham_cvd", given)
    assert result["missing"] == ["hdl_cholesterol", "diabetes"] and result["value"] is None


@pytest.mark.parametrize("given, message", [
    ({"age": "fifty"}, "age must be a number"),
    ({"age": 50.5}, "age must be a whole number"),
    ({"smoker": "yes"}, "smoker must be true or false"),
    ({"sex": "M"}, "sex must be one of male, female"),
    ({"systolic_bp": 0}, "systolic_bp must be above 0"),
    ({"total_cholesterol": -1}, "total_cholesterol must be above 0"),
    ({"systolic_bp": True}, "systolic_bp must be a number"),
    ({"weight": 70}, "framingham_cvd has no input 'weight'"),
])
def test_inputs_of_the_wrong_type_are_refused(given, message):
    with pytest.raises(RiskInputError, match=message):
        compute("framingham_cvd", given)


def test_an_unknown_model_is_refused():
    with pytest.raises(UnknownModel, match="unknown model 'china_par'"):
        compute("china_par", {})


def test_what_if_changes_only_modifiable_factors():
    with pytest.raises(RiskInputError, match="age is not a modifiable factor"):
        what_if("framingham_cvd", {}, {"age": 40})
    outcome = what_if("bp_grade", {"systolic_bp": 150, "diastolic_bp": 85}, {"systolic_bp": 120})
    assert (outcome["now"]["band"], outcome["then"]["band"]) == ("grade_1", "high_normal")
