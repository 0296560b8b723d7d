"""When an advice item applies to a patient, and why.

An item's conditions are ``{"any": [leaf, ...], "age_min": n, "age_max": n,
"sex": "M" | "F"}``. Age and sex must hold when given; then the item applies
when any leaf holds, or to everyone when ``any`` is empty. A leaf is one of

- ``{"tag": name}``: the patient carries the tag (by a rule or by hand; its
  Chinese or English name);
- ``{"risk": model, "bands": [...]}``: the model's current assessment is in
  one of the bands;
- ``{"questionnaire": key, "score": score, "bands": [...]}``: the score of
  the newest submitted response is in one of the bands;
- ``{"habit": "smoking" | "alcohol", "values": [...]}``: the recorded habit.

``why`` returns the leaves that hold (and the age or sex rule), which the
sheet keeps as the reasons shown next to each entry."""
from dataclasses import dataclass, field

from app.core.errors import FieldErrors

HABITS = {"smoking": ("never", "former", "current"), "alcohol": ("none", "occasional", "regular")}
SCORED = (("phq9", "total"), ("gad7", "total"), ("ipaq_short", "category"), ("findrisc", "total"))


@dataclass
class PatientFacts:
    """What conditions read of one patient."""
    sex: str
    age: int
    tags: set[str] = field(default_factory=set)           # names, Chinese and English
    risk: dict[str, str] = field(default_factory=dict)    # model -> current band
    scores: dict[tuple[str, str], str] = field(default_factory=dict)  # (questionnaire, score) -> band
    habits: dict[str, str] = field(default_factory=dict)  # smoking, alcohol -> recorded value


def _holds(leaf: dict, facts: PatientFacts) -> bool:
    if "tag" in leaf:
        return leaf["tag"] in facts.tags
    if "risk" in leaf:
        return facts.risk.get(leaf["risk"]) in leaf.get("bands", ())
    if "questionnaire" in leaf:
        return facts.scores.get((leaf["questionnaire"], leaf.get("score", "total"))) in leaf.get("bands", ())
    if "habit" in leaf:
        return facts.habits.get(leaf["habit"]) in leaf.get("values", ())
    return False


def _as_reason(leaf: dict, facts: PatientFacts) -> dict:
    """A leaf that holds, with the patient's own band or habit in it."""
    if "risk" in leaf:
        return {"risk": leaf["risk"], "band": facts.risk[leaf["risk"]]}
    if "questionnaire" in leaf:
        score = leaf.get("score", "total")
        return {"questionnaire": leaf["questionnaire"], "score": score,
                "band": facts.scores[(leaf["questionnaire"], score)]}
    if "habit" in leaf:
        return {"habit": leaf["habit"], "value": facts.habits[leaf["habit"]]}
    return dict(leaf)


def why(conditions: dict, facts: PatientFacts) -> list[dict] | None:
    """The reasons the item applies (a list, maybe of the age rule alone), or None if it does not."""
    age_min, age_max, sex = conditions.get("age_min"), conditions.get("age_max"), conditions.get("sex") or ""
    if age_min is not None and facts.age < age_min:
        return None
    if age_max is not None and facts.age > age_max:
        return None
    if sex and facts.sex != sex:
        return None
    leaves = conditions.get("any") or []
    held = [_as_reason(leaf, facts) for leaf in leaves if _holds(leaf, facts)]
    if leaves and not held:
        return None
    reasons: list[dict] = list(held)
    if not leaves:
        reasons.append({"everyone": True})
    if age_min is not None or age_max is not None:
        reasons.append({"age_min": age_min, "age_max": age_max})
    if sex:
        reasons.append({"sex": sex})
    return reasons


def _age(text: str, name: str, errors: dict, message: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdecimal() or not 0 <= int(text) <= 120:
        errors[name] = message
        return None
    return int(text)


def parse(*, tags: str, chosen: list[str], age_min: str, age_max: str, sex: str, known_tags: set[str],
          known_choices: set[str], messages: dict) -> dict:
    """Conditions from the library form: tag names (separated by commas),
    the ticked bands and habits (``risk:model:band``, ``q:key:score:band``,
    ``habit:name:value``), ages and sex. Raises FieldErrors."""
    errors: dict[str, str] = {}
    leaves: list[dict] = []
    names = [n.strip() for n in (tags or "").replace("，", ",").split(",") if n.strip()]
    unknown = [n for n in names if n not in known_tags]
    if unknown:
        errors["tags"] = messages["unknown_tags"] % {"names": ", ".join(unknown)}
    leaves += [{"tag": n} for n in dict.fromkeys(names)]
    grouped: dict[tuple, list[str]] = {}
    for choice in chosen:
        if choice not in known_choices:
            continue
        parts = choice.split(":")
        grouped.setdefault(tuple(parts[:-1]), []).append(parts[-1])
    for head, values in grouped.items():
        if head[0] == "risk":
            leaves.append({"risk": head[1], "bands": values})
        elif head[0] == "q":
            leaves.append({"questionnaire": head[1], "score": head[2], "bands": values})
        elif head[0] == "habit":
            leaves.append({"habit": head[1], "values": values})
    low = _age(age_min, "age_min", errors, messages["age"])
    high = _age(age_max, "age_max", errors, messages["age"])
    if low is not None and high is not None and low > high:
        errors["age_max"] = messages["age_order"]
    if sex not in ("", "M", "F"):
        errors["sex"] = messages["sex"]
    if errors:
        raise FieldErrors(errors)
    conditions: dict = {"any": leaves}
    if low is not None:
        conditions["age_min"] = low
    if high is not None:
        conditions["age_max"] = high
    if sex:
        conditions["sex"] = sex
    return conditions


def choices_of(conditions: dict) -> tuple[str, list[str]]:
    """The form's values of stored conditions: tag names, and the ticked boxes."""
    tags, ticked = [], []
    for leaf in conditions.get("any") or []:
        if "tag" in leaf:
            tags.append(leaf["tag"])
        elif "risk" in leaf:
            ticked += [f"risk:{leaf['risk']}:{b}" for b in leaf.get("bands", ())]
        elif "questionnaire" in leaf:
            ticked += [f"q:{leaf['questionnaire']}:{leaf.get('score', 'total')}:{b}" for b in leaf.get("bands", ())]
        elif "habit" in leaf:
            ticked += [f"habit:{leaf['habit']}:{v}" for v in leaf.get("values", ())]
    return ", ".join(tags), ticked
