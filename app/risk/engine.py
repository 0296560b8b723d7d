"""One engine for every model of tenants/packs/risk/.

``compute(model_id, inputs)`` returns::

    {"model", "version", "status", "value", "unit", "band",
     "contributions": {input: share, points or band}, "missing": [input names]}

``status`` is ``ok``; ``missing`` when a required input has no value (value,
band and contributions are then null/empty and ``missing`` lists what is
needed); or ``outside_ages`` when the age is outside the ages the model was
made for (no number is given, ``note`` says which ages). Inputs of an unknown
name or of the wrong type raise ``RiskInputError``; an unknown model raises
``UnknownModel``."""
from app.risk import cox, criteria, egfr, points, stages
from app.risk.definitions import input_spec, model
from app.risk.inputs import RiskInputError, checked, missing
from app.risk.ranges import pick


def compute(model_id: str, inputs: dict) -> dict:
    definition = model(model_id)
    return evaluate(definition, checked(definition, inputs))


def evaluate(definition: dict, values: dict) -> dict:
    """``compute`` for inputs checked already (inputs.checked, or each through inputs.typed)."""
    result = {"model": definition["id"], "version": definition["version"], "status": "ok", "value": None,
              "unit": definition["unit"], "band": None, "contributions": {}, "missing": missing(definition, values)}
    ages = definition.get("ages")
    if ages and "age" in values and not ages["min"] <= values["age"] <= ages["max"]:
        result.update(status="outside_ages", note=f"outside the model's ages ({ages['min']}-{ages['max']} years)")
        return result
    if result["missing"]:
        result["status"] = "missing"
        return result
    if definition["kind"] == "criteria":
        verdict = criteria.compute(definition, values)
        if verdict.needed:
            result.update(status="missing", missing=verdict.needed)
        else:
            result.update(value=verdict.met, contributions=verdict.contributions, band=verdict.band)
        return result
    result["value"], result["contributions"], result["band"] = _run(definition, values)
    return result


def what_if(model_id: str, inputs: dict, changes: dict) -> dict:
    """The result now and with modifiable factors changed (systolic_bp at
    120, not smoking): ``{"now": result, "changes": changes, "then": result}``.
    Changing an input the definition does not mark modifiable (age, sex,
    diabetes) is refused."""
    definition = model(model_id)
    for name in changes:
        spec = input_spec(definition, name)
        if spec is None or not spec.get("modifiable"):
            raise RiskInputError(f"{name} is not a modifiable factor of {model_id}")
    return {"now": compute(model_id, inputs), "changes": dict(changes),
            "then": compute(model_id, {**inputs, **changes})}


def _run(definition: dict, values: dict) -> tuple:
    kind = definition["kind"]
    if kind == "cox":
        risk, shares = cox.compute(definition, values)
        return risk, shares, _band(definition, risk)
    if kind == "points":
        score, by_input = points.compute(definition, values)
        return score, by_input, _band(definition, score)
    if kind == "stages":
        return stages.compute(definition, values)
    return egfr.compute(definition, values)


def _band(definition: dict, value: float) -> str | None:
    return pick(definition["bands"], value)["code"] if definition["bands"] else None
