"""Checking the inputs given to a model: names it knows, values of the
declared type. A missing input (absent or null) is never guessed: it is
reported, and the model then gives no value."""
import math

from app.risk.definitions import input_spec, required_inputs


class RiskInputError(ValueError):
    """An input the model does not know, or a value of the wrong type."""


def checked(definition: dict, given: dict) -> dict:
    """The given inputs that have a value, each checked against its spec."""
    if not isinstance(given, dict):
        raise RiskInputError("inputs must be a JSON object of input names and values")
    values = {}
    for name, value in given.items():
        spec = input_spec(definition, name)
        if spec is None:
            known = ", ".join(s["name"] for s in definition["inputs"])
            raise RiskInputError(f"{definition['id']} has no input {name!r}; its inputs are: {known}")
        if value is not None:
            values[name] = typed(spec, value)
    return values


def missing(definition: dict, values: dict) -> list[str]:
    """Required inputs without a value. For a model that takes either of
    several input sets (an eGFR, or creatinine, age and sex), the names
    lacking from a set of which something is given, closest to complete
    first; with nothing of any set given, from the smallest set."""
    either = definition["model"].get("either")
    if either:
        gaps = [([name for name in group if name not in values], group) for group in either]
        if any(not gap for gap, _group in gaps):
            return []
        started = [(gap, group) for gap, group in gaps if len(gap) < len(group)]
        return min(started or gaps, key=lambda pair: len(pair[0]))[0]
    return [name for name in required_inputs(definition) if name not in values]


def typed(spec: dict, value):
    name, kind = spec["name"], spec["type"]
    if kind == "boolean":
        if not isinstance(value, bool):
            raise RiskInputError(f"{name} must be true or false, not {value!r}")
        return value
    if kind == "choice":
        if value not in spec["choices"]:
            raise RiskInputError(f"{name} must be one of {', '.join(spec['choices'])}, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RiskInputError(f"{name} must be a number ({spec.get('unit', '')}), not {value!r}".replace(" ()", ""))
    if not math.isfinite(value):
        raise RiskInputError(f"{name} must be a finite number, not {value!r}")
    if kind == "integer":
        if value != int(value):
            raise RiskInputError(f"{name} must be a whole number, not {value!r}")
        value = int(value)
    if value < 0 or (spec.get("positive") and value == 0):
        raise RiskInputError(f"{name} must be {'above' if spec.get('positive') else 'at least'} 0, not {value!r}")
    return value
