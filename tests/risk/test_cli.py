"""``flask --app wsgi risk models`` and ``risk compute MODEL --inputs JSON``."""
import json

import pytest

from app import create_app


@pytest.fixture(scope="module")
def runner():
    """The commands compute from given inputs only: no database is touched."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_cli_runner()


def test_models_lists_every_model_with_its_inputs_and_units(runner):
    result = runner.invoke(args=["risk", "models"])
    assert result.exit_code == 0, result.output
    assert "framingham_cvd v1 (%)" in result.output
    assert "  total_cholesterol\tnumber, mmol/L" in result.output
    assert "  sex\tmale | female" in result.output and "  smoker\ttrue | false" in result.output
    assert "  egfr\tnumber, mL/min/1.73m2 (optional)" in result.output
    assert "ckd_albuminuria v1 (mg/g)" in result.output


def test_compute_prints_the_result_as_json(runner):
    given = {"sex": "male", "age": 55, "total_cholesterol": 5.2, "hdl_cholesterol": 1.1, "systolic_bp": 140,
             "bp_treated": False, "smoker": True, "diabetes": False}
    result = runner.invoke(args=["risk", "compute", "framingham_cvd", "--inputs", json.dumps(given)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed) >= {"model", "version", "value", "unit", "band", "contributions", "missing"}
    assert printed["model"] == "framingham_cvd" and printed["unit"] == "%" and printed["missing"] == []
    assert isinstance(printed["value"], float) and printed["band"] in ("low", "intermediate", "high")


def test_compute_names_what_is_missing(runner):
    given = '{"creatinine": 90, "sex": "female"}'
    result = runner.invoke(args=["risk", "compute", "ckd_egfr_stage", "--inputs", given])
    assert result.exit_code == 0 and json.loads(result.output)["missing"] == ["age"]


@pytest.mark.parametrize("args, message", [
    (["risk", "compute", "findrisc", "--inputs", "{age: 50}"], "--inputs is not valid JSON"),
    (["risk", "compute", "findrisc", "--inputs", "[1, 2]"], "inputs must be a JSON object"),
    (["risk", "compute", "nope", "--inputs", "{}"], "unknown model 'nope'"),
    (["risk", "compute", "findrisc", "--inputs", '{"age": "old"}'], "age must be a number"),
    (["risk", "compute", "findrisc", "--inputs", '{"shoe_size": 42}'], "findrisc has no input 'shoe_size'"),
    (["risk", "compute", "findrisc"], "Missing option '--inputs'"),
])
def test_bad_input_exits_non_zero_with_a_clear_message(runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output
