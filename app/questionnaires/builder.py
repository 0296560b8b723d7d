"""The questionnaire builder: a clinic's admins make and edit questionnaires as drafts, publish them as
versions, and import and export them as FHIR R4 Questionnaire JSON.

A draft is a definition (app/questionnaires/definition.py) kept in ``Questionnaire.draft``. Every change
reads the form, applies it to a copy of the draft, checks the copy with check_definition, and stores it only
when nothing it touched has a problem; problems are mapped back to the question, section or score they name.
"""
import copy
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import audit
from app.core.errors import FieldErrors
from app.questionnaires import fhir, library, schema
from app.questionnaires.definition_check import definition_problems
from app.questionnaires.models import Questionnaire, QuestionnaireVersion
from app.questionnaires.problems import Problem
from app.questionnaires.schema import CHOICE_TYPES, KEY_RE, KINDS, TYPES
from tenants.db import db

TITLE_MAX = 120
TEXT_MAX = 1000
LABEL_MAX = 200
UNIT_MAX = 20
PATTERN_MAX = 200
NUMBER_LIMIT = 1e9
MAX_ROWS = 60
IMPORT_MAX_BYTES = 1024 * 1024
# the operators the builder offers for a branch (definition.OPS)
BRANCH_OPS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "answered")
KEEP = "__keep__"  # the form's value for "keep the combined condition as it is"
TYPE_LABELS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"), "likert": _l("Likert scale"),
               "number": _l("Number"), "date": _l("Date"), "text": _l("Short text"), "textarea": _l("Long text"),
               "yesno": _l("Yes / no"), "matrix": _l("Matrix (rows × one scale)")}

# --- reading forms ---------------------------------------------------------------------------------------------


def _text(form: Mapping, name: str, errors: dict, *, limit: int = TEXT_MAX, required: bool = False) -> str:
    value = str(form.get(name) or "").strip()
    if required and not value:
        errors[name] = _l("Please fill this in.")
    elif len(value) > limit:
        errors[name] = _l("Use at most %(max)s characters.", max=limit)
    elif any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        errors[name] = _l("Please remove control characters.")
    return value


def _bilingual(form: Mapping, prefix: str, errors: dict, *, limit: int = TEXT_MAX,
               required: bool = True) -> dict | None:
    """{"zh", "en"} from PREFIX_zh and PREFIX_en; both or (when not required) neither."""
    zh = _text(form, f"{prefix}_zh", errors, limit=limit)
    en = _text(form, f"{prefix}_en", errors, limit=limit)
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


def _number(form: Mapping, name: str, errors: dict) -> int | float | None:
    try:
        return parse_number(form.get(name))
    except ValueError:
        errors[name] = _l("Enter a number.")
        return None


def _key(form: Mapping, name: str, errors: dict) -> str:
    value = str(form.get(name) or "").strip()
    if not KEY_RE.match(value):
        errors[name] = _l("Lower-case letters, digits and _, starting with a letter (at most 40).")
    return value


def _checked(form: Mapping, name: str) -> bool:
    return str(form.get(name) or "") in ("1", "on", "true", "yes", "y")


def _rows(form: Mapping, prefix: str, fields: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
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
    raw = _text(form, "cond_value", errors, limit=LABEL_MAX)
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


# --- problems ----------------------------------------------------------------------------------------------------


def problems_by_target(defn: dict) -> dict[str, list[str]]:
    """check_definition's problems by what they name: "question:KEY", "section:KEY", "score:KEY", or ""."""
    found: dict[str, list[str]] = {}
    for problem in definition_problems(defn):
        found.setdefault(problem.target, []).append(str(problem))
    return found


def _problems_of(defn: dict, target: str) -> list[Problem]:
    return [problem for problem in definition_problems(defn) if problem.target == target]


def _refuse_if(problems: list[Problem]) -> None:
    """FieldErrors naming each problem next to the form field it concerns (without repeating where it is)."""
    if problems:
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.field, []).append(str(problem.message))
        raise FieldErrors({field: "; ".join(found) for field, found in errors.items()})


# --- the draft ---------------------------------------------------------------------------------------------------


def locked(questionnaire_id: int) -> Questionnaire | None:
    """The questionnaire, its row locked for the change about to be made."""
    return db.session.scalar(select(Questionnaire).where(Questionnaire.id == questionnaire_id).with_for_update())


def _store(questionnaire: Questionnaire, defn: dict) -> None:
    questionnaire.draft = json.loads(json.dumps(defn))  # a new object: the JSON column sees the change


def draft_copy(questionnaire: Questionnaire) -> dict:
    if questionnaire.draft is None:
        raise LookupError("no draft")
    return copy.deepcopy(questionnaire.draft)


def _blank_question(key: str, qtype: str) -> dict:
    question: dict = {"key": key, "type": qtype, "text": {"zh": "新问题", "en": "New question"}, "required": False}
    if qtype in CHOICE_TYPES or qtype == "matrix":
        question["options"] = [{"code": str(i), "label": {"zh": f"选项{i}", "en": f"Option {i}"}, "score": i}
                               for i in (1, 2)]
    if qtype == "matrix":
        question["rows"] = [{"key": "r1", "text": {"zh": "第一行", "en": "Row 1"}}]
    return question


def _free_key(taken: set[str], stem: str) -> str:
    n = 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def create(form: Mapping, *, actor_id: int) -> Questionnaire:
    """A new clinic questionnaire: its draft has one section with one question."""
    errors: dict = {}
    key = _key(form, "key", errors)
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    title = _bilingual(form, "title", errors, limit=TITLE_MAX)
    description = _bilingual(form, "description", errors, required=False)
    if "key" not in errors and library.by_key(key) is not None:
        errors["key"] = _l("Another questionnaire of this clinic has this key.")
    if errors:
        raise FieldErrors(errors)
    assert title is not None
    defn: dict = {"key": key, "version": 1, "kind": kind, "title": title}
    if description:
        defn["description"] = description
    defn["source"] = "Clinic questionnaire made in the CareLoop builder"
    defn["sections"] = [{"key": "s1", "title": {"zh": "第一部分", "en": "Part 1"}, "show_if": None,
                         "questions": [_blank_question("q1", "single")]}]
    defn["scores"], defn["flags"] = [], []
    questionnaire = Questionnaire(key=key, kind=kind, title_zh=title["zh"], title_en=title["en"], draft=defn,
                                  created_by=actor_id)
    db.session.add(questionnaire)
    db.session.flush()
    return questionnaire


def start_draft(questionnaire: Questionnaire) -> dict:
    """A draft from the current version (a pack instrument's too: it becomes the clinic's own copy)."""
    if questionnaire.draft is not None:
        return questionnaire.draft
    current = library.current_version(questionnaire)
    if current is None:
        raise LookupError("nothing published")
    defn = copy.deepcopy(current.definition)
    defn["version"] = questionnaire.current_version + 1
    _store(questionnaire, defn)
    return defn


def discard(questionnaire: Questionnaire) -> None:
    questionnaire.draft = None


def save_meta(questionnaire: Questionnaire, form: Mapping) -> None:
    defn = draft_copy(questionnaire)
    errors: dict = {}
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    title = _bilingual(form, "title", errors, limit=TITLE_MAX)
    description = _bilingual(form, "description", errors, required=False)
    if errors:
        raise FieldErrors(errors)
    defn["kind"], defn["title"] = kind, title
    if description:
        defn["description"] = description
    else:
        defn.pop("description", None)
    _store(questionnaire, defn)


def _find_question(defn: dict, qkey: str) -> tuple[dict, int, dict] | None:
    for section in defn.get("sections") or []:
        for i, question in enumerate(section.get("questions") or []):
            if question.get("key") == qkey:
                return section, i, question
    return None


def _find_section(defn: dict, skey: str) -> tuple[int, dict] | None:
    for i, section in enumerate(defn.get("sections") or []):
        if section.get("key") == skey:
            return i, section
    return None


def question_of(questionnaire: Questionnaire, qkey: str) -> dict:
    """One question of the draft (LookupError when there is none)."""
    found = _find_question(questionnaire.draft or {}, qkey)
    if found is None:
        raise LookupError(qkey)
    return found[2]


def has_question(questionnaire: Questionnaire, qkey: str) -> bool:
    return questionnaire.draft is not None and _find_question(questionnaire.draft, qkey) is not None


def has_section(questionnaire: Questionnaire, skey: str) -> bool:
    return questionnaire.draft is not None and _find_section(questionnaire.draft, skey) is not None


def add_section(questionnaire: Questionnaire) -> str:
    defn = draft_copy(questionnaire)
    taken_s = {s.get("key") for s in defn["sections"]}
    taken_q = set(schema.questions_by_key(defn))
    skey = _free_key(taken_s, "s")
    n = len(defn["sections"]) + 1
    defn["sections"].append({"key": skey, "title": {"zh": f"第{n}部分", "en": f"Part {n}"}, "show_if": None,
                             "questions": [_blank_question(_free_key(taken_q, "q"), "single")]})
    _store(questionnaire, defn)
    return skey


def add_question(questionnaire: Questionnaire, skey: str, qtype: str) -> str:
    defn = draft_copy(questionnaire)
    found = _find_section(defn, skey)
    if found is None:
        raise LookupError(skey)
    if qtype not in TYPES:
        raise FieldErrors({"type": str(_l("Choose a question type."))})
    qkey = _free_key(set(schema.questions_by_key(defn)), "q")
    found[1]["questions"].append(_blank_question(qkey, qtype))
    _store(questionnaire, defn)
    return qkey


def _rename(node: Any, old: str, new: str) -> Any:
    """Conditions and score items that name question OLD (or its matrix rows) now name NEW."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "question" and isinstance(v, str) and (v == old or v.startswith(f"{old}.")):
                out[k] = new + v[len(old):]
            else:
                out[k] = _rename(v, old, new)
        return out
    if isinstance(node, list):
        return [_rename(v, old, new) for v in node]
    return node


def _rename_everywhere(defn: dict, old: str, new: str) -> None:
    for section in defn["sections"]:
        if section.get("show_if"):
            section["show_if"] = _rename(section["show_if"], old, new)
        for question in section["questions"]:
            if question.get("show_if"):
                question["show_if"] = _rename(question["show_if"], old, new)
    for score in defn.get("scores") or []:
        items = score.get("items")
        if isinstance(items, list):
            score["items"] = [new + i[len(old):] if isinstance(i, str) and (i == old or i.startswith(f"{old}."))
                              else i for i in items]
        elif isinstance(items, dict):
            score["items"] = {k: new if v == old else v for k, v in items.items()}
        if isinstance(score.get("reverse"), dict):
            score["reverse"]["items"] = [new if i == old else i for i in score["reverse"].get("items") or []]
    for flag in defn.get("flags") or []:
        if flag.get("when"):
            flag["when"] = _rename(flag["when"], old, new)


def question_from_form(defn: dict, old: dict, form: Mapping, errors: dict) -> dict:
    """The question as the edit form describes it (errors by field name)."""
    qtype = str(form.get("type") or "")
    if qtype not in TYPES:
        errors["type"] = _l("Choose a question type.")
        qtype = old.get("type", "single")
    question: dict = {"key": _key(form, "key", errors), "type": qtype,
                      "text": _bilingual(form, "text", errors)}
    help_text = _bilingual(form, "help", errors, required=False)
    if help_text:
        question["help"] = help_text
    question["required"] = _checked(form, "required")
    if qtype in CHOICE_TYPES or qtype == "matrix":
        options = []
        for i, row in _rows(form, "opt", ("code", "zh", "en", "score")):
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
        for i, row in _rows(form, "row", ("key", "zh", "en")):
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
        unit = _text(form, "unit", errors, limit=UNIT_MAX)
        if unit:
            question["unit"] = unit
        low, high = _number(form, "min", errors), _number(form, "max", errors)
        if low is not None:
            question["min"] = low
        if high is not None:
            question["max"] = high
        if low is not None and high is not None and low > high:
            errors["max"] = _l("The highest value is below the lowest.")
        if _checked(form, "integer"):
            question["integer"] = True
    if qtype in ("text", "textarea"):
        raw = str(form.get("max_length") or "").strip()
        if raw:
            if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 5 and int(raw) > 0:
                question["max_length"] = int(raw)
            else:
                errors["max_length"] = _l("Enter a whole number from 1 to 99999.")
        pattern = _text(form, "pattern", errors, limit=PATTERN_MAX)
        if pattern:
            try:
                re.compile(pattern)
            except re.error:
                errors["pattern"] = _l("This is not a valid regular expression.")
            question["pattern"] = pattern
            message = _bilingual(form, "pattern_message", errors, limit=LABEL_MAX, required=False)
            if message:
                question["pattern_message"] = message
    for extra in ("history_field", "link_id"):
        if extra in old:
            question[extra] = old[extra]
    show_if = condition_from_form(defn, form, errors, old.get("show_if"))
    if show_if is not None:
        question["show_if"] = show_if
    return question


def save_question(questionnaire: Questionnaire, qkey: str, form: Mapping) -> str:
    """Store one question's edit form; returns its key (which may be new). FieldErrors: nothing stored."""
    defn = draft_copy(questionnaire)
    found = _find_question(defn, qkey)
    if found is None:
        raise LookupError(qkey)
    section, index, old = found
    errors: dict = {}
    question = question_from_form(defn, old, form, errors)
    new_key = question["key"]
    if "key" not in errors and new_key != qkey and new_key in schema.questions_by_key(defn):
        errors["key"] = _l("Another question has this key.")
    if errors:
        raise FieldErrors(errors)
    section["questions"][index] = question
    if new_key != qkey:
        _rename_everywhere(defn, qkey, new_key)
    _refuse_if(_problems_of(defn, f"question:{new_key}"))
    _store(questionnaire, defn)
    return new_key


def save_section(questionnaire: Questionnaire, skey: str, form: Mapping) -> str:
    defn = draft_copy(questionnaire)
    found = _find_section(defn, skey)
    if found is None:
        raise LookupError(skey)
    index, section = found
    errors: dict = {}
    new_key = _key(form, "key", errors)
    if "key" not in errors and new_key != skey and _find_section(defn, new_key) is not None:
        errors["key"] = _l("Another section has this key.")
    title = _bilingual(form, "title", errors, limit=LABEL_MAX)
    show_if = condition_from_form(defn, form, errors, section.get("show_if"))
    if errors:
        raise FieldErrors(errors)
    section = dict(section, key=new_key, title=title, show_if=show_if)
    defn["sections"][index] = section
    _refuse_if(_problems_of(defn, f"section:{new_key}"))
    _store(questionnaire, defn)
    return new_key


def arrange_question(questionnaire: Questionnaire, qkey: str, action: str) -> bool:
    """up, down (across sections at their edges) or delete; False: nothing to do."""
    defn = draft_copy(questionnaire)
    found = _find_question(defn, qkey)
    if found is None or action not in ("up", "down", "delete"):
        return False
    section, index, question = found
    sections = defn["sections"]
    s_index = sections.index(section)
    questions = section["questions"]
    if action == "delete":
        if len(questions) == 1:
            raise FieldErrors({"problems": str(_l("A section needs at least one question: delete the section "
                                                  "instead."))})
        questions.pop(index)
    elif action == "up":
        if index > 0:
            questions[index - 1], questions[index] = questions[index], questions[index - 1]
        elif s_index > 0 and len(questions) > 1:
            sections[s_index - 1]["questions"].append(questions.pop(index))
        else:
            return False
    else:
        if index < len(questions) - 1:
            questions[index + 1], questions[index] = questions[index], questions[index + 1]
        elif s_index < len(sections) - 1 and len(questions) > 1:
            sections[s_index + 1]["questions"].insert(0, questions.pop(index))
        else:
            return False
    _store(questionnaire, defn)
    return True


def arrange_section(questionnaire: Questionnaire, skey: str, action: str) -> bool:
    defn = draft_copy(questionnaire)
    found = _find_section(defn, skey)
    if found is None or action not in ("up", "down", "delete"):
        return False
    index, _section = found
    sections = defn["sections"]
    if action == "delete":
        if len(sections) == 1:
            raise FieldErrors({"problems": str(_l("A questionnaire needs at least one section."))})
        sections.pop(index)
    elif action == "up" and index > 0:
        sections[index - 1], sections[index] = sections[index], sections[index - 1]
    elif action == "down" and index < len(sections) - 1:
        sections[index + 1], sections[index] = sections[index], sections[index + 1]
    else:
        return False
    _store(questionnaire, defn)
    return True


# --- scores ------------------------------------------------------------------------------------------------------


def editable_score(score: dict) -> bool:
    """A plain sum over items with bands: what the builder edits (the pack's other methods are kept as they are)."""
    plain = {"key", "label", "method", "items", "bands", "range"}
    return score.get("method") == "sum" and set(score) <= plain


def scorable_refs(defn: dict) -> list[tuple[str, dict]]:
    """Questions a sum may add up: choice questions whose options all carry a score, and numbers."""
    out = []
    for _section, question in schema.iter_questions(defn):
        options = question.get("options") or []
        if question.get("type") == "number" or (
                question.get("type") in CHOICE_TYPES + ("matrix",) and options
                and all(o.get("score") is not None for o in options)):
            out.append((question["key"], question))
    return out


def save_score(questionnaire: Questionnaire, skey: str | None, form: Mapping) -> str:
    """Add (skey None) or change a sum score with its bands."""
    defn = draft_copy(questionnaire)
    scores = defn.setdefault("scores", [])
    index = next((i for i, s in enumerate(scores) if s.get("key") == skey), None)
    if skey is not None and (index is None or not editable_score(scores[index])):
        raise LookupError(skey)
    errors: dict = {}
    key = _key(form, "key", errors)
    if "key" not in errors and key != skey and any(s.get("key") == key for s in scores):
        errors["key"] = _l("Another score has this key.")
    label = _bilingual(form, "label", errors, limit=LABEL_MAX)
    allowed = {ref for ref, _q in scorable_refs(defn)}
    items = [str(v) for v in (form.getlist("items") if hasattr(form, "getlist") else form.get("items") or [])]
    items = list(dict.fromkeys(i for i in items if i in allowed))
    if not items:
        errors["items"] = _l("Choose the questions the score adds up.")
    old_bands = scores[index].get("bands") or [] if index is not None else []
    bands = []
    for i, row in _rows(form, "band", ("min", "max", "zh", "en", "izh", "ien")):
        band: dict = {"key": old_bands[i]["key"] if i < len(old_bands) else f"b{i + 1}"}
        for bound in ("min", "max"):
            try:
                band[bound] = parse_number(row[bound])
            except ValueError:
                errors[f"band-{i}-{bound}"] = _l("Enter a number.")
            if band.get(bound) is None and f"band-{i}-{bound}" not in errors:
                errors[f"band-{i}-{bound}"] = _l("Please fill this in.")
        for lang in ("zh", "en"):
            if not row[lang]:
                errors[f"band-{i}-{lang}"] = _l("Please fill this in.")
            elif len(row[lang]) > LABEL_MAX:
                errors[f"band-{i}-{lang}"] = _l("Use at most %(max)s characters.", max=LABEL_MAX)
        band["label"] = {"zh": row["zh"], "en": row["en"]}
        if row["izh"] or row["ien"]:
            for name in ("izh", "ien"):
                if not row[name]:
                    errors[f"band-{i}-{name}"] = _l("Please fill this in.")
                elif len(row[name]) > TEXT_MAX:
                    errors[f"band-{i}-{name}"] = _l("Use at most %(max)s characters.", max=TEXT_MAX)
            band["interpretation"] = {"zh": row["izh"], "en": row["ien"]}
        bands.append(band)
    keys = [b["key"] for b in bands]
    for n, band in enumerate(bands):  # keys stay unique when rows were left blank in between
        if keys.count(band["key"]) > 1:
            band["key"] = f"b{n + 1}"
    if errors:
        raise FieldErrors(errors)
    score = {"key": key, "label": label, "method": "sum", "items": items, "bands": bands}
    if index is None:
        scores.append(score)
    else:
        scores[index] = score
    _refuse_if(_problems_of(defn, f"score:{key}"))
    _store(questionnaire, defn)
    return key


def delete_score(questionnaire: Questionnaire, skey: str) -> bool:
    defn = draft_copy(questionnaire)
    scores = defn.get("scores") or []
    kept = [s for s in scores if not (s.get("key") == skey and editable_score(s))]
    if len(kept) == len(scores):
        return False
    defn["scores"] = kept
    _store(questionnaire, defn)
    return True


# --- publishing ---------------------------------------------------------------------------------------------------


def _same(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k != "version"} == {k: v for k, v in b.items() if k != "version"}


def publish(questionnaire: Questionnaire, *, actor_id: int) -> QuestionnaireVersion | None:
    """The draft as the next version (None: it is the current version unchanged; the draft is dropped).
    FieldErrors with the problems by target ("question:KEY", ...) when the draft cannot be published."""
    defn = draft_copy(questionnaire)
    problems = problems_by_target(defn)
    if problems:
        raise FieldErrors({target: "; ".join(found) for target, found in problems.items()})
    current = library.current_version(questionnaire)
    if current is not None and _same(current.definition, defn):
        questionnaire.draft = None
        return None
    defn["version"] = questionnaire.current_version + 1
    version = library.publish(questionnaire, defn, actor_id=actor_id)
    questionnaire.draft = None
    return version


# --- FHIR ---------------------------------------------------------------------------------------------------------


def export_fhir(version: QuestionnaireVersion, *, url_base: str) -> str:
    return json.dumps(fhir.to_fhir_questionnaire(version.definition, url_base=url_base), ensure_ascii=False,
                      indent=2)


def read_upload(raw: bytes) -> dict:
    """The definition an uploaded FHIR Questionnaire describes; FieldErrors on "file" naming what is wrong."""
    if len(raw) > IMPORT_MAX_BYTES:
        raise FieldErrors({"file": str(_l("The file is larger than %(mb)s MB.", mb=IMPORT_MAX_BYTES // 2**20))})
    if not raw.strip():
        raise FieldErrors({"file": str(_l("Choose a FHIR Questionnaire JSON file."))})
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FieldErrors({"file": str(_l("The file is not UTF-8 text."))}) from None
    except json.JSONDecodeError as exc:
        raise FieldErrors({"file": str(_l("The file is not valid JSON (line %(line)s, column %(col)s: %(msg)s).",
                                          line=exc.lineno, col=exc.colno, msg=exc.msg))}) from None
    except RecursionError:
        raise FieldErrors({"file": str(_l("The file is nested too deeply."))}) from None
    try:
        defn = fhir.from_fhir_questionnaire(data)
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        reason = str(exc).splitlines()[0][:400] if str(exc) else type(exc).__name__
        raise FieldErrors({"file": str(_l("The Questionnaire cannot be imported: %(reason)s", reason=reason))}) \
            from None
    if any(len(defn["title"][lang]) > TITLE_MAX for lang in ("zh", "en")):
        raise FieldErrors({"file": str(_l("The Questionnaire cannot be imported: its title is longer than %(max)s "
                                          "characters.", max=TITLE_MAX))})
    return defn


def import_definition(defn: dict, *, replace: bool, actor_id: int) -> tuple[Questionnaire, bool]:
    """An imported definition as a new clinic questionnaire's draft, or (replace) the new draft of the
    questionnaire with the same key. Returns it and whether it was already there; LookupError when it is
    there and replace was not asked for."""
    defn = copy.deepcopy(defn)
    existing = library.by_key(defn["key"])
    if existing is not None and not replace:
        raise LookupError(defn["key"])
    if existing is None:
        questionnaire = Questionnaire(key=defn["key"], kind=defn["kind"], title_zh=defn["title"]["zh"],
                                      title_en=defn["title"]["en"], created_by=actor_id)
        db.session.add(questionnaire)
        db.session.flush()
    else:
        questionnaire = locked(existing.id) or existing
    defn["version"] = questionnaire.current_version + 1
    _store(questionnaire, defn)
    audit.record("questionnaire_imported", questionnaire=defn["key"], version=defn["version"])  # the draft's
    return questionnaire, existing is not None
