"""Branching: show_if conditions of sections and questions (and the conditions of flags), and which questions
an answer set shows."""
from typing import Any

from app.questionnaires.schema import CHOICE_TYPES, COMPARISONS, answer_of, is_blank, option_score, resolve_ref


def condition_refs(cond: Any) -> list[str]:
    if not isinstance(cond, dict):
        return []
    if "all" in cond or "any" in cond:
        return [ref for sub in (cond.get("all") or cond.get("any") or []) for ref in condition_refs(sub)]
    return [cond["question"]] if isinstance(cond.get("question"), str) else []


def evaluate(defn: dict, cond: dict | None, answers: dict) -> bool:
    """Whether a CONDITION holds for these answers; an unanswered question satisfies only
    {"op": "answered", "value": false}."""
    if cond is None:
        return True
    if "all" in cond:
        return all(evaluate(defn, sub, answers) for sub in cond["all"])
    if "any" in cond:
        return any(evaluate(defn, sub, answers) for sub in cond["any"])
    ref = cond["question"]
    op = cond["op"]
    target = cond.get("value")
    value = answer_of(answers, ref)
    if op == "answered":
        return (not is_blank(value)) == (target is not False)
    if is_blank(value):
        return False
    resolved = resolve_ref(defn, ref)
    if resolved is None:
        return False
    question, row = resolved
    qtype = "single" if row else question.get("type")
    if op in COMPARISONS:
        if qtype in CHOICE_TYPES or row:
            codes = value if isinstance(value, list) else [value]
            scores = [s for s in (option_score(question, c) for c in codes) if s is not None]
            if not scores:
                return False
            number: Any = sum(scores)
        else:
            number = value
        try:
            return {
                "gt": number > target,
                "gte": number >= target,
                "lt": number < target,
                "lte": number <= target,
            }[op]
        except TypeError:
            return False
    wanted = target if op == "in" else [target]
    if not isinstance(wanted, list):
        wanted = [wanted]
    if isinstance(value, list):  # multiple choice: eq/in mean "chose (any of) it"
        hit = any(code in value for code in wanted)
    else:
        hit = any(_same(value, w) for w in wanted)
    return (not hit) if op == "ne" else hit


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def visible_questions(defn: dict, answers: dict) -> list[str]:
    """Keys of the questions shown, in order; conditions see only the answers of questions shown before them."""
    shown: list[str] = []
    seen: dict = {}
    for section in defn.get("sections") or []:
        if not evaluate(defn, section.get("show_if"), seen):
            continue
        for question in section.get("questions") or []:
            if not evaluate(defn, question.get("show_if"), seen):
                continue
            shown.append(question["key"])
            if question["key"] in answers:
                seen[question["key"]] = answers[question["key"]]
    return shown
