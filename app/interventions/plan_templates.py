"""Plan templates from the pack (tenants/packs/interventions/, one file per
condition) and the TCM conditioning pack (tenants/packs/conditioning/),
checked when read: a goal names a catalogue indicator (LOINC code) or the
weekly active minutes, a comparator and a target or a change from the
baseline; a fixed target cites a source unless the template leaves it to
staff (``staff_set``). No clinical number lives in code."""
import json
from functools import cache
from pathlib import Path

from app.interventions.plan_models import ACTION_KINDS, COMPARATORS
from tenants import packs

INTERVENTIONS = Path(packs.PACKS) / "interventions"
CONDITIONING = Path(packs.PACKS) / "conditioning"
MEASURES = ("active_minutes",)  # goals measured from the patient's ticks, not from observations
ADVICE = ("diet", "exercise", "routine", "emotions", "seasonal")


class TemplateProblem(ValueError):
    pass


def _indicator_codes() -> set[str]:
    return {spec["code"] for spec in packs.load("indicators")["indicators"]}


@cache
def sources() -> dict[str, dict]:
    data = json.loads((INTERVENTIONS / "_sources.json").read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


def _check_text(where: str, text) -> None:
    if not isinstance(text, dict) or not text.get("zh") or not text.get("en"):
        raise TemplateProblem(f"{where}: text in zh and en")


def check_goal(where: str, goal: dict, codes: set[str]) -> None:
    if bool(goal.get("code")) == bool(goal.get("measure")):
        raise TemplateProblem(f"{where}: a goal has an indicator code or a measure")
    if goal.get("code") and goal["code"] not in codes:
        raise TemplateProblem(f"{where}: {goal['code']} is not in the indicator catalogue")
    if goal.get("measure") and goal["measure"] not in MEASURES:
        raise TemplateProblem(f"{where}: unknown measure {goal['measure']}")
    if goal.get("comparator") not in COMPARATORS:
        raise TemplateProblem(f"{where}: comparator is one of {COMPARATORS}")
    if (goal.get("target") is None) == (goal.get("relative_pct") is None):
        raise TemplateProblem(f"{where}: a target or a relative change, not both")
    if goal.get("relative_pct") is not None and not goal.get("code"):
        raise TemplateProblem(f"{where}: a relative change needs an indicator's baseline")
    if not goal.get("staff_set") and goal.get("source") not in sources():
        raise TemplateProblem(f"{where}: a target cites a source of _sources.json or is staff_set")
    if not isinstance(goal.get("due_months"), int) or not 1 <= goal["due_months"] <= 24:
        raise TemplateProblem(f"{where}: due_months from 1 to 24")


def check_action(where: str, action: dict) -> None:
    if action.get("kind") not in ACTION_KINDS:
        raise TemplateProblem(f"{where}: kind is one of {ACTION_KINDS}")
    if not isinstance(action.get("per_week"), int) or not 0 <= action["per_week"] <= 7:
        raise TemplateProblem(f"{where}: per_week from 0 to 7")
    if action.get("measure") not in (None, "bp", "weight", "glucose"):
        raise TemplateProblem(f"{where}: measure is bp, weight or glucose")
    if action.get("source") is not None and action["source"] not in sources():
        raise TemplateProblem(f"{where}: unknown source {action['source']}")


def check(template: dict) -> dict:
    key = template.get("key", "?")
    _check_text(f"{key} title", template.get("title"))
    if not isinstance(template.get("months"), int) or not 1 <= template["months"] <= 24:
        raise TemplateProblem(f"{key}: months from 1 to 24")
    if any(not isinstance(d, int) or d < 1 for d in template.get("checkin_days", [])):
        raise TemplateProblem(f"{key}: checkin_days are days after the start")
    codes = _indicator_codes()
    seen: set[str] = set()
    for goal in template.get("goals", []):
        check_goal(f"{key} goal {goal.get('key')}", goal, codes)
    for action in template.get("actions", []):
        if action.get("key") in seen or not action.get("key"):
            raise TemplateProblem(f"{key}: action keys are unique")
        seen.add(action["key"])
        check_action(f"{key} action {action['key']}", action)
        _check_text(f"{key} action {action['key']}", action.get("text"))
    return template


@cache
def intervention_templates() -> dict[str, dict]:
    found = {}
    for path in sorted(INTERVENTIONS.glob("*.json")):
        if path.name.startswith("_"):
            continue
        template = check(json.loads(path.read_text(encoding="utf-8")))
        found[template["key"]] = template
    return found


@cache
def conditioning_pack() -> dict:
    pack = json.loads((CONDITIONING / "tcm_constitution.json").read_text(encoding="utf-8"))
    for key, spec in pack["constitutions"].items():
        _check_text(f"{key} name", spec.get("name"))
        for heading in ADVICE:
            _check_text(f"{key} {heading}", spec["advice"].get(heading))
    for heading, action in pack["actions"].items():
        if heading not in ADVICE:
            raise TemplateProblem(f"conditioning action {heading}")
        check_action(f"conditioning {heading}", action)
    return pack


def template(key: str) -> dict | None:
    return intervention_templates().get(key)


def text(value: dict, locale: str) -> str:
    """A pack text in the page's language (zh unless English is asked for)."""
    return value.get("en" if str(locale).startswith("en") else "zh", "") if value else ""
