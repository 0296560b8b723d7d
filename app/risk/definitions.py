"""The model definitions of tenants/packs/risk/, one JSON file per model.

A definition holds ``id``, ``version``, ``kind`` (which calculator runs it),
``name`` (zh, en), ``unit``, ``source``, optional ``ages`` (min, max),
``inputs`` and ``bands``. Each input has ``name``, ``type`` (number, integer,
boolean or choice with its ``choices``), ``unit`` where it has one, ``from``
(where the value comes from: an observation by LOINC code, a questionnaire
item, a patient field or a health-history item), ``required`` (default true),
``positive`` for quantities that must be above zero and ``modifiable`` for the
factors a what-if may change."""
import json
from functools import cache
from pathlib import Path

from tenants.packs import PACKS

FOLDER = Path(PACKS) / "risk"
KINDS = ("cox", "points", "stages", "egfr_stage", "criteria")
INPUT_TYPES = ("number", "integer", "boolean", "choice")


class UnknownModel(LookupError):
    pass


@cache
def all_models() -> dict[str, dict]:
    """Every model by id, checked for the shape the engine relies on."""
    models = {}
    for path in sorted(FOLDER.glob("*.json")):
        model = json.loads(path.read_text(encoding="utf-8"))
        _check(model, path.name)
        models[model["id"]] = model
    return models


def model(model_id: str) -> dict:
    try:
        return all_models()[model_id]
    except KeyError:
        known = ", ".join(sorted(all_models()))
        raise UnknownModel(f"unknown model {model_id!r}; the models are: {known}") from None


def input_spec(definition: dict, name: str) -> dict | None:
    if all_models().get(definition["id"]) is definition:  # a pack model: by name (asked for every patient)
        return _specs(definition["id"]).get(name)
    return next((spec for spec in definition["inputs"] if spec["name"] == name), None)


@cache
def _specs(model_id: str) -> dict[str, dict]:
    return {spec["name"]: spec for spec in all_models()[model_id]["inputs"]}


def models_reading(*, codes=(), questionnaire: str | None = None) -> list[str]:
    """The ids of the models with an input read from one of these indicator codes or from this
    questionnaire (what a new result or a submitted response can change), in the models' order."""
    wanted = set(codes)
    return [model_id for model_id, (read_codes, keys) in _sources().items()
            if wanted & read_codes or (questionnaire is not None and questionnaire in keys)]


@cache
def _sources() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """model id -> (the indicator codes, the questionnaire keys) its inputs read."""
    found = {}
    for model_id, definition in all_models().items():
        sources = [source for spec in definition["inputs"] for source in spec["from"]]
        found[model_id] = (frozenset(s["observation"] for s in sources if "observation" in s),
                           frozenset(s["questionnaire"] for s in sources if "questionnaire" in s))
    return found


def required_inputs(definition: dict) -> list[str]:
    return [spec["name"] for spec in definition["inputs"] if spec.get("required", True)]


def _check(model: dict, filename: str) -> None:
    for key in ("id", "version", "kind", "name", "unit", "source", "inputs", "model", "bands"):
        if key not in model:
            raise ValueError(f"risk pack {filename}: no {key!r}")
    if model["kind"] not in KINDS:
        raise ValueError(f"risk pack {filename}: unknown kind {model['kind']!r}")
    if f"{model['id']}.json" != filename:
        raise ValueError(f"risk pack {filename}: id {model['id']!r} differs from the file name")
    for spec in model["inputs"]:
        if spec.get("type") not in INPUT_TYPES:
            raise ValueError(f"risk pack {filename}: input {spec.get('name')!r} has no known type")
        if not spec.get("from"):
            raise ValueError(f"risk pack {filename}: input {spec['name']!r} does not say where it comes from")
