"""The questionnaire builder: a clinic's admins make and edit questionnaires as drafts, publish them as
versions, and import and export them as FHIR R4 Questionnaire JSON.

A draft is a definition (app/questionnaires/definition.py) kept in ``Questionnaire.draft``. Every change
reads the form, applies it to a copy of the draft, checks the copy with check_definition, and stores it only
when nothing it touched has a problem; problems are mapped back to the question, section or score they name.

This module holds a draft's life (create, start, discard, its title and kind, publish) and the FHIR import and
export; builder_edits.py changes its sections, questions and scores, and builder_forms.py reads the forms.
"""
import copy
import json
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import audit
from app.core.errors import FieldErrors
from app.questionnaires import fhir, fhir_import, library
from app.questionnaires.builder_forms import TITLE_MAX, read_bilingual, read_key
from app.questionnaires.definition_check import definition_problems
from app.questionnaires.models import Questionnaire, QuestionnaireVersion
from app.questionnaires.problems import Problem
from app.questionnaires.schema import CHOICE_TYPES, KINDS
from tenants.db import db

IMPORT_MAX_BYTES = 1024 * 1024


# --- problems ----------------------------------------------------------------------------------------------------


def problems_by_target(defn: dict) -> dict[str, list[str]]:
    """check_definition's problems by what they name: "question:KEY", "section:KEY", "score:KEY", or ""."""
    found: dict[str, list[str]] = {}
    for problem in definition_problems(defn):
        found.setdefault(problem.target, []).append(str(problem))
    return found


def problems_of(defn: dict, target: str) -> list[Problem]:
    return [problem for problem in definition_problems(defn) if problem.target == target]


def refuse_if(problems: list[Problem]) -> None:
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


def store(questionnaire: Questionnaire, defn: dict) -> None:
    questionnaire.draft = json.loads(json.dumps(defn))  # a new object: the JSON column sees the change


def draft_copy(questionnaire: Questionnaire) -> dict:
    if questionnaire.draft is None:
        raise LookupError("no draft")
    return copy.deepcopy(questionnaire.draft)


def blank_question(key: str, qtype: str) -> dict:
    question: dict = {"key": key, "type": qtype, "text": {"zh": "新问题", "en": "New question"}, "required": False}
    if qtype in CHOICE_TYPES or qtype == "matrix":
        question["options"] = [{"code": str(i), "label": {"zh": f"选项{i}", "en": f"Option {i}"}, "score": i}
                               for i in (1, 2)]
    if qtype == "matrix":
        question["rows"] = [{"key": "r1", "text": {"zh": "第一行", "en": "Row 1"}}]
    return question


def free_key(taken: set[str], stem: str) -> str:
    n = 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def create(form: Mapping, *, actor_id: int) -> Questionnaire:
    """A new clinic questionnaire: its draft has one section with one question."""
    errors: dict = {}
    key = read_key(form, "key", errors)
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    title = read_bilingual(form, "title", errors, limit=TITLE_MAX)
    description = read_bilingual(form, "description", errors, required=False)
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
                         "questions": [blank_question("q1", "single")]}]
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
    store(questionnaire, defn)
    return defn


def discard(questionnaire: Questionnaire) -> None:
    questionnaire.draft = None


def save_meta(questionnaire: Questionnaire, form: Mapping) -> None:
    defn = draft_copy(questionnaire)
    errors: dict = {}
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    title = read_bilingual(form, "title", errors, limit=TITLE_MAX)
    description = read_bilingual(form, "description", errors, required=False)
    if errors:
        raise FieldErrors(errors)
    defn["kind"], defn["title"] = kind, title
    if description:
        defn["description"] = description
    else:
        defn.pop("description", None)
    store(questionnaire, defn)


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
        defn = fhir_import.from_fhir_questionnaire(data)
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
    store(questionnaire, defn)
    audit.record("questionnaire_imported", questionnaire=defn["key"], version=defn["version"])  # the draft's
    return questionnaire, existing is not None
