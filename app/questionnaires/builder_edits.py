"""The builder's edits of a draft's parts: sections and questions (add, change, rename, move, delete) and the sum
scores it edits. Each change is made on a copy of the draft and stored only when what it touched has no problem
(see builder.py)."""
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from app.core.errors import FieldErrors
from app.questionnaires import schema
from app.questionnaires.builder import blank_question, draft_copy, free_key, problems_of, refuse_if, store
from app.questionnaires.builder_forms import (
    LABEL_MAX,
    TEXT_MAX,
    condition_from_form,
    parse_number,
    question_from_form,
    read_bilingual,
    read_key,
    read_rows,
)
from app.questionnaires.models import Questionnaire
from app.questionnaires.schema import CHOICE_TYPES, TYPES


def find_question(defn: dict, qkey: str) -> tuple[dict, int, dict] | None:
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
    found = find_question(questionnaire.draft or {}, qkey)
    if found is None:
        raise LookupError(qkey)
    return found[2]


def has_question(questionnaire: Questionnaire, qkey: str) -> bool:
    return questionnaire.draft is not None and find_question(questionnaire.draft, qkey) is not None


def has_section(questionnaire: Questionnaire, skey: str) -> bool:
    return questionnaire.draft is not None and _find_section(questionnaire.draft, skey) is not None


def add_section(questionnaire: Questionnaire) -> str:
    defn = draft_copy(questionnaire)
    taken_s = {s.get("key") for s in defn["sections"]}
    taken_q = set(schema.questions_by_key(defn))
    skey = free_key(taken_s, "s")
    n = len(defn["sections"]) + 1
    defn["sections"].append({"key": skey, "title": {"zh": f"第{n}部分", "en": f"Part {n}"}, "show_if": None,
                             "questions": [blank_question(free_key(taken_q, "q"), "single")]})
    store(questionnaire, defn)
    return skey


def add_question(questionnaire: Questionnaire, skey: str, qtype: str) -> str:
    defn = draft_copy(questionnaire)
    found = _find_section(defn, skey)
    if found is None:
        raise LookupError(skey)
    if qtype not in TYPES:
        raise FieldErrors({"type": str(_l("Choose a question type."))})
    qkey = free_key(set(schema.questions_by_key(defn)), "q")
    found[1]["questions"].append(blank_question(qkey, qtype))
    store(questionnaire, defn)
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


def save_question(questionnaire: Questionnaire, qkey: str, form: Mapping) -> str:
    """Store one question's edit form; returns its key (which may be new). FieldErrors: nothing stored."""
    defn = draft_copy(questionnaire)
    found = find_question(defn, qkey)
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
    refuse_if(problems_of(defn, f"question:{new_key}"))
    store(questionnaire, defn)
    return new_key


def save_section(questionnaire: Questionnaire, skey: str, form: Mapping) -> str:
    defn = draft_copy(questionnaire)
    found = _find_section(defn, skey)
    if found is None:
        raise LookupError(skey)
    index, section = found
    errors: dict = {}
    new_key = read_key(form, "key", errors)
    if "key" not in errors and new_key != skey and _find_section(defn, new_key) is not None:
        errors["key"] = _l("Another section has this key.")
    title = read_bilingual(form, "title", errors, limit=LABEL_MAX)
    show_if = condition_from_form(defn, form, errors, section.get("show_if"))
    if errors:
        raise FieldErrors(errors)
    section = dict(section, key=new_key, title=title, show_if=show_if)
    defn["sections"][index] = section
    refuse_if(problems_of(defn, f"section:{new_key}"))
    store(questionnaire, defn)
    return new_key


def arrange_question(questionnaire: Questionnaire, qkey: str, action: str) -> bool:
    """up, down (across sections at their edges) or delete; False: nothing to do."""
    defn = draft_copy(questionnaire)
    found = find_question(defn, qkey)
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
    store(questionnaire, defn)
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
    store(questionnaire, defn)
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
    key = read_key(form, "key", errors)
    if "key" not in errors and key != skey and any(s.get("key") == key for s in scores):
        errors["key"] = _l("Another score has this key.")
    label = read_bilingual(form, "label", errors, limit=LABEL_MAX)
    allowed = {ref for ref, _q in scorable_refs(defn)}
    items = [str(v) for v in (form.getlist("items") if hasattr(form, "getlist") else form.get("items") or [])]
    items = list(dict.fromkeys(i for i in items if i in allowed))
    if not items:
        errors["items"] = _l("Choose the questions the score adds up.")
    old_bands = scores[index].get("bands") or [] if index is not None else []
    bands = []
    for i, row in read_rows(form, "band", ("min", "max", "zh", "en", "izh", "ien")):
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
    refuse_if(problems_of(defn, f"score:{key}"))
    store(questionnaire, defn)
    return key


def delete_score(questionnaire: Questionnaire, skey: str) -> bool:
    defn = draft_copy(questionnaire)
    scores = defn.get("scores") or []
    kept = [s for s in scores if not (s.get("key") == skey and editable_score(s))]
    if len(kept) == len(scores):
        return False
    defn["scores"] = kept
    store(questionnaire, defn)
    return True
