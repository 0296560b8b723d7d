"""Answers: reading each answer as its question's type, dropping what is hidden or unreadable, and the
messages for answers that cannot stand (read in the reader's language)."""
import math
import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from app.questionnaires.branching import visible_questions
from app.questionnaires.schema import DATE_RE, FALSE_WORDS, TRUE_WORDS, is_blank, questions_by_key


class _Bad(Exception):
    """An answer that cannot be read as its question's type."""


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Bad
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError as exc:
            raise _Bad from exc
        if not math.isfinite(number):
            raise _Bad
        return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+(\.0*)?", text) else number
    raise _Bad


def coerce(question: dict, value: Any) -> Any:
    """The answer as its question's type (raises _Bad when it cannot be read); blank stays None."""
    if isinstance(value, str) and not value.strip() and question.get("type") not in ("text", "textarea"):
        return None
    qtype = question.get("type")
    if qtype in ("single", "likert"):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _Bad
        return str(value).strip()
    if qtype == "multiple":
        if isinstance(value, str | int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str | int) for v in value):
            raise _Bad
        codes = [str(v).strip() for v in value if str(v).strip()]
        return list(dict.fromkeys(codes)) or None
    if qtype == "number":
        return _number(value)
    if qtype == "date":
        if not isinstance(value, str):
            raise _Bad
        return value.strip()
    if qtype in ("text", "textarea"):
        if not isinstance(value, str):
            raise _Bad
        text = value.strip()
        return text or None
    if qtype == "yesno":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
            return True
        if isinstance(value, str) and value.strip().lower() in FALSE_WORDS:
            return False
        raise _Bad
    if qtype == "matrix":
        if not isinstance(value, dict):
            raise _Bad
        rows = {r["key"] for r in question.get("rows") or []}
        out = {}
        for row, code in value.items():
            if row in rows and not is_blank(code):
                if isinstance(code, bool) or not isinstance(code, str | int):
                    raise _Bad
                out[row] = str(code).strip()
        return out or None
    raise _Bad


def _coerced(defn: dict, answers: dict) -> tuple[dict, set[str]]:
    """Answers to known questions, coerced where they can be; the keys that could not be read."""
    out: dict = {}
    bad: set[str] = set()
    for key, question in questions_by_key(defn).items():
        if key not in answers:
            continue
        try:
            value = coerce(question, answers[key])
        except _Bad:
            bad.add(key)
            out[key] = answers[key]
            continue
        if value is not None:
            out[key] = value
    return out, bad


def clean_answers(defn: dict, answers: dict) -> dict:
    """Answers to the questions shown, as their types; hidden, unknown, blank and unreadable answers are dropped."""
    coerced, bad = _coerced(defn, answers)
    for key in bad:
        coerced.pop(key)
    shown = visible_questions(defn, coerced)
    return {key: coerced[key] for key in shown if key in coerced}


def validate_answers(defn: dict, answers: dict, *, partial: bool = False) -> dict[str, str]:
    """Question key -> message for each answer that cannot stand; required applies to shown questions unless partial."""
    coerced, bad = _coerced(defn, answers)
    readable = {k: v for k, v in coerced.items() if k not in bad}
    errors: dict[str, str] = {}
    by_key = questions_by_key(defn)
    for key in visible_questions(defn, readable):
        question = by_key[key]
        if key in bad:
            errors[key] = _type_message(question)
            continue
        value = coerced.get(key)
        if value is None:
            if question.get("required") and not partial:
                errors[key] = _l("Please answer this question.")
            continue
        message = _check_value(question, value, partial)
        if message is not None:
            errors[key] = message
    return errors


def _type_message(question: dict) -> Any:
    qtype = question.get("type")
    if qtype == "number":
        return _l("Enter a number.")
    if qtype == "date":
        return _l("Enter a date as YYYY-MM-DD.")
    if qtype == "yesno":
        return _l("Answer yes or no.")
    if qtype == "matrix":
        return _l("Choose one answer in each row.")
    if qtype in ("text", "textarea"):
        return _l("Enter text.")
    return _l("Choose one of the options offered.")


def _check_value(question: dict, value: Any, partial: bool) -> Any:
    qtype = question.get("type")
    codes = {o.get("code") for o in question.get("options") or []}
    if qtype in ("single", "likert"):
        return None if value in codes else _l("Choose one of the options offered.")
    if qtype == "multiple":
        return None if all(v in codes for v in value) else _l("Choose only among the options offered.")
    if qtype == "number":
        if question.get("integer") and not isinstance(value, int):
            return _l("Enter a whole number.")
        low, high = question.get("min"), question.get("max")
        if low is not None and high is not None and not low <= value <= high:
            return _l("Enter a number from %(min)s to %(max)s.", min=low, max=high)
        if low is not None and value < low:
            return _l("Enter a number of at least %(min)s.", min=low)
        if high is not None and value > high:
            return _l("Enter a number of at most %(max)s.", max=high)
        return None
    if qtype == "date":
        if not DATE_RE.match(value):
            return _l("Enter a date as YYYY-MM-DD.")
        try:
            date.fromisoformat(value)
        except ValueError:
            return _l("This date does not exist.")
        return None
    if qtype in ("text", "textarea"):
        limit = question.get("max_length")
        if limit is not None and len(value) > limit:
            return _l("Use at most %(max)s characters.", max=limit)
        pattern = question.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            custom = question.get("pattern_message")
            return custom if custom else _l("This answer is not in the expected format.")
        return None
    if qtype == "matrix":
        rows = [r["key"] for r in question.get("rows") or []]
        if any(code not in codes for code in value.values()):
            return _l("Choose one of the options offered in each row.")
        if not partial and question.get("required") and any(row not in value for row in rows):
            return _l("Choose one answer in each row.")
        return None
    return None
