"""The questionnaire builder's forms: reading fields, branches (show_if) and a question's edit form into parts of
a definition, with errors by field name. Nothing here touches the database."""
import math
import re
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from app.questionnaires import schema
from app.questionnaires.schema import CHOICE_TYPES, KEY_RE, TYPES

TITLE_MAX = 120
TEXT_MAX = 1000
LABEL_MAX = 200
UNIT_MAX = 20
PATTERN_MAX = 200
NUMBER_LIMIT = 1e9
MAX_ROWS = 60
# the operators the builder offers for a branch (definition.OPS)
BRANCH_OPS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "answered")
KEEP = "__keep__"  # the form's value for "keep the combined condition as it is"
TYPE_LABELS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"), "likert": _l("Likert scale"),
               "number": _l("Number"), "date": _l("Date"), "text": _l("Short text"), "textarea": _l("Long text"),
               "yesno": _l("Yes / no"), "matrix": _l("Matrix (rows × one scale)")}

# --- reading forms ---------------------------------------------------------------------------------------------


def read_text(form: Mapping, name: str, errors: dict, *, limit: int = TEXT_MAX, required: bool = False) -> str:
    value = str(form.get(name) or "").strip()
    if required and not value:
        errors[name] = _l("Please fill this in.")
    elif len(value) > limit:
        errors[name] = _l("Use at most %(max)s characters.", max=limit)
    elif any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        errors[name] = _l("Please remove control characters.")
    return value


def read_bilingual(form: Mapping, prefix: str, errors: dict, *, limit: int = TEXT_MAX,
               required: bool = True) -> dict | None:
    """{"zh", "en"} from PREFIX_zh and PREFIX_en; both or (when not required) neither."""
    zh = read_text(form, f"{prefix}_zh", errors, limit=limit)
    en = read_text(form, f"{prefix}_en", errors, limit=limit)
    if not zh and not en and not required:
        return None
    for lang, value in (("zh", zh), ("en", en)):
        if not value and f"{prefix}_{lang}" not in errors:
            errors[f"{prefix}_{lang}"] = (_l("Please give it in Chinese too.") if lang == "zh"
                                          else _l("Please give it in English too."))
    return {"zh": zh, "en": en}


def parse_number(raw: Any) -> int | float | None:
    """A number typed into the builder (None: blank); raises ValueError when it is no finite number in range."""
    text = str(raw or "").strip()
    if not text:
        return None
    if len(text) > 30:
        raise ValueError(text)
    number = float(text)
    if not math.isfinite(number) or abs(number) > NUMBER_LIMIT:
        raise ValueError(text)
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+(\.0*)?", text) else number


def read_number(form: Mapping, name: str, errors: dict) -> int | float | None:
    try:
        return parse_number(form.get(name))
    except ValueError:
        errors[name] = _l("Enter a number.")
        return None


def read_key(form: Mapping, name: str, errors: dict) -> str:
    value = str(form.get(name) or "").strip()
    if not KEY_RE.match(value):
        errors[name] = _l("Lower-case letters, digits and _, starting with a letter (at most 40).")
    return value


def is_checked(form: Mapping, name: str) -> bool:
    return str(form.get(name) or "") in ("1", "on", "true", "yes", "y")


def read_rows(form: Mapping, prefix: str, fields: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Numbered rows PREFIX-N-FIELD of a form, blank rows left out."""
    found = []
    for i in range(MAX_ROWS):
        values = {f: str(form.get(f"{prefix}-{i}-{f}") or "").strip() for f in fields}
        if any(values.values()):
            found.append((i, values))
    return found


# --- conditions -------------------------------------------------------------------------------------------------


def _condition_value(question: dict | None, row: str | None, op: str, raw: str) -> Any:
    """The value of a branch typed as text, read as its question's answers are; raises ValueError."""
    qtype = "single" if row else (question or {}).get("type")
    if op == "answered":
        return True
    if op in ("gt", "gte", "lt", "lte"):
        number = parse_number(raw)
        if number is None:
            raise ValueError(raw)
        return number
    parts = [p.strip() for p in raw.split(",")] if op == "in" else [raw.strip()]
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError(raw)
    values: list[Any] = []
    for part in parts:
        if qtype == "yesno":
            low = part.lower()
            if low in schema.TRUE_WORDS or part in ("是", "有"):
                values.append(True)
            elif low in schema.FALSE_WORDS or part in ("否", "无", "没有"):
                values.append(False)
            else:
                raise ValueError(raw)
        elif qtype == "number":
            number = parse_number(part)
            if number is None:
                raise ValueError(raw)
            values.append(number)
        else:
            values.append(part)
    return values if op == "in" else values[0]


def condition_from_form(defn: dict, form: Mapping, errors: dict, existing: Any) -> Any:
    """show_if from cond_question / cond_op / cond_value (None: always shown)."""
    ref = str(form.get("cond_question") or "").strip()
    if not ref:
        return None
    if ref == KEEP:
        return existing
    op = str(form.get("cond_op") or "")
    raw = read_text(form, "cond_value", errors, limit=LABEL_MAX)
    if op not in BRANCH_OPS:
        errors["cond_op"] = _l("Choose how the answer is compared.")
        return None
    resolved = schema.resolve_ref(defn, ref)
    if resolved is None:
        errors["cond_question"] = _l("Choose an earlier question.")
        return None
    try:
        value = _condition_value(resolved[0], resolved[1], op, raw)
    except ValueError:
        errors["cond_value"] = _condition_hint(resolved[0], resolved[1], op)
        return None
    return {"question": ref, "op": op, "value": value}


def _condition_hint(question: dict, row: str | None, op: str) -> Any:
    qtype = "single" if row else question.get("type")
    if op in ("gt", "gte", "lt", "lte"):
        return _l("Enter a number (for a choice question: compared with the chosen option's score).")
    if qtype == "yesno":
        return _l("Enter yes or no.")
    if qtype == "number":
        return _l("Enter a number (several for “is one of”, separated by commas).")
    if qtype in CHOICE_TYPES or row:
        return _l("Enter an option code (several for “is one of”, separated by commas).")
    return _l("Enter the answer to compare with.")


def condition_form_values(cond: Any) -> dict[str, str]:
    """What the branch fields show for a stored condition."""
    if not isinstance(cond, dict):
        return {"cond_question": "", "cond_op": "eq", "cond_value": ""}
    if "all" in cond or "any" in cond:
        return {"cond_question": KEEP, "cond_op": "eq", "cond_value": ""}
    value = cond.get("value")
    if isinstance(value, list):
        shown = ", ".join(_plain(v) for v in value)
    else:
        shown = "" if cond.get("op") == "answered" else _plain(value)
    return {"cond_question": str(cond.get("question") or ""), "cond_op": str(cond.get("op") or "eq"),
            "cond_value": shown}


def _plain(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "" if value is None else str(value)


def earlier_refs(defn: dict, *, before_question: str | None = None, before_section: str | None = None) -> list:
    """(ref, question) a branch may name: the questions before this one (matrix rows by themselves)."""
    refs: list[tuple[str, dict]] = []
    for section in defn.get("sections") or []:
        if before_section is not None and section.get("key") == before_section:
            return refs
        for question in section.get("questions") or []:
            if before_question is not None and question.get("key") == before_question:
                return refs
            if question.get("type") == "matrix":
                refs.extend((f"{question['key']}.{r.get('key')}", question) for r in question.get("rows") or [])
            else:
                refs.append((question["key"], question))
    return refs


# --- a question ------------------------------------------------------------------------------------------------


def question_from_form(defn: dict, old: dict, form: Mapping, errors: dict) -> dict:
    """The question as the edit form describes it (errors by field name)."""
    qtype = str(form.get("type") or "")
    if qtype not in TYPES:
        errors["type"] = _l("Choose a question type.")
        qtype = old.get("type", "single")
    question: dict = {"key": read_key(form, "key", errors), "type": qtype,
                      "text": read_bilingual(form, "text", errors)}
    help_text = read_bilingual(form, "help", errors, required=False)
    if help_text:
        question["help"] = help_text
    question["required"] = is_checked(form, "required")
    if qtype in CHOICE_TYPES or qtype == "matrix":
        options = []
        for i, row in read_rows(form, "opt", ("code", "zh", "en", "score")):
            if not row["code"]:
                errors[f"opt-{i}-code"] = _l("Please give the option a code.")
            elif len(row["code"]) > 40 or not re.fullmatch(r"[A-Za-z0-9_.-]+", row["code"]):
                errors[f"opt-{i}-code"] = _l("Letters, digits, _ . and - (at most 40).")
            for lang in ("zh", "en"):
                if not row[lang]:
                    errors[f"opt-{i}-{lang}"] = _l("Please fill this in.")
                elif len(row[lang]) > LABEL_MAX:
                    errors[f"opt-{i}-{lang}"] = _l("Use at most %(max)s characters.", max=LABEL_MAX)
            option: dict = {"code": row["code"], "label": {"zh": row["zh"], "en": row["en"]}}
            try:
                score = parse_number(row["score"])
            except ValueError:
                errors[f"opt-{i}-score"] = _l("Enter a number.")
                score = None
            if score is not None:
                option["score"] = score
            options.append(option)
        codes = [o["code"] for o in options]
        if len(set(codes)) != len(codes):
            errors["options"] = _l("Two options have the same code.")
        elif not options:
            errors["options"] = _l("Add at least one option.")
        question["options"] = options
    if qtype == "matrix":
        rows = []
        for i, row in read_rows(form, "row", ("key", "zh", "en")):
            if not KEY_RE.match(row["key"]):
                errors[f"row-{i}-key"] = _l("Lower-case letters, digits and _, starting with a letter (at most 40).")
            for lang in ("zh", "en"):
                if not row[lang]:
                    errors[f"row-{i}-{lang}"] = _l("Please fill this in.")
                elif len(row[lang]) > TEXT_MAX:
                    errors[f"row-{i}-{lang}"] = _l("Use at most %(max)s characters.", max=TEXT_MAX)
            rows.append({"key": row["key"], "text": {"zh": row["zh"], "en": row["en"]}})
        if not rows:
            errors["rows"] = _l("Add at least one row.")
        elif len({r["key"] for r in rows}) != len(rows):
            errors["rows"] = _l("Two rows have the same key.")
        question["rows"] = rows
    if qtype == "number":
        unit = read_text(form, "unit", errors, limit=UNIT_MAX)
        if unit:
            question["unit"] = unit
        low, high = read_number(form, "min", errors), read_number(form, "max", errors)
        if low is not None:
            question["min"] = low
        if high is not None:
            question["max"] = high
        if low is not None and high is not None and low > high:
            errors["max"] = _l("The highest value is below the lowest.")
        if is_checked(form, "integer"):
            question["integer"] = True
    if qtype in ("text", "textarea"):
        raw = str(form.get("max_length") or "").strip()
        if raw:
            if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 5 and int(raw) > 0:
                question["max_length"] = int(raw)
            else:
                errors["max_length"] = _l("Enter a whole number from 1 to 99999.")
        pattern = read_text(form, "pattern", errors, limit=PATTERN_MAX)
        if pattern:
            try:
                re.compile(pattern)
            except re.error:
                errors["pattern"] = _l("This is not a valid regular expression.")
            question["pattern"] = pattern
            message = read_bilingual(form, "pattern_message", errors, limit=LABEL_MAX, required=False)
            if message:
                question["pattern_message"] = message
    for extra in ("history_field", "link_id"):
        if extra in old:
            question[extra] = old[extra]
    show_if = condition_from_form(defn, form, errors, old.get("show_if"))
    if show_if is not None:
        question["show_if"] = show_if
    return question
