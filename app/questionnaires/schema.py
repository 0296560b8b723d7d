"""The questionnaire definition format: its vocabulary and how to walk a definition.

A definition is plain JSON (one file per instrument in tenants/packs/questionnaires/, or built by an admin).
Nothing here touches the database. The other parts of the format live beside this module: branching.py (show_if
conditions), validation.py (reading and checking answers), definition_check.py and score_check.py (the structural
check, with problems.py for how problems are named), pack.py (the shipped instruments).
"""
import re
from collections.abc import Iterator
from typing import Any

KINDS = ("screening", "intake", "lifestyle", "survey")
TYPES = ("single", "multiple", "likert", "number", "date", "text", "textarea", "yesno", "matrix")
CHOICE_TYPES = ("single", "multiple", "likert")
OPS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "answered")
COMPARISONS = ("gt", "gte", "lt", "lte")
FLAG_LEVELS = ("info", "warning", "critical")
LANGS = ("zh", "en")

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE_WORDS = ("true", "yes", "1", "on", "y")
FALSE_WORDS = ("false", "no", "0", "off", "n")


def iter_questions(defn: dict) -> Iterator[tuple[dict, dict]]:
    for section in defn.get("sections") or []:
        for question in section.get("questions") or []:
            yield section, question


def questions_by_key(defn: dict) -> dict[str, dict]:
    return {q["key"]: q for _, q in iter_questions(defn) if isinstance(q, dict) and "key" in q}


def resolve_ref(defn: dict, ref: str, index: dict[str, dict] | None = None) -> tuple[dict, str | None] | None:
    """A reference is a question key, or "matrix_key.row_key" for one row of a matrix (index: questions_by_key,
    when the caller has it)."""
    qkey, _, row = ref.partition(".")
    question = (index if index is not None else questions_by_key(defn)).get(qkey)
    if question is None:
        return None
    if row:
        if question.get("type") != "matrix" or row not in {r.get("key") for r in question.get("rows") or []}:
            return None
        return question, row
    return question, None


def answer_of(answers: dict, ref: str) -> Any:
    qkey, _, row = ref.partition(".")
    value = answers.get(qkey)
    if row:
        return value.get(row) if isinstance(value, dict) else None
    return value


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def option_score(question: dict, code: Any) -> float | None:
    for option in question.get("options") or []:
        if option.get("code") == code:
            score = option.get("score")
            return None if score is None else score
    return None

