"""A questionnaire's submitted responses as an XLSX workbook: one row per
response, each question's answer in the reader's language, each score and
its band. Without identifiers the rows carry no name, card number or
mobile (the default for a role that may not see them). The caller audits.

The workbook is written row by row (openpyxl's write-only mode) into a temporary file while the responses are read
from the database in batches, so a large export holds neither every response nor the whole file in memory."""
import tempfile
from datetime import datetime
from typing import IO

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select

from app.core import clock
from app.patients import services as patients
from app.questionnaires import definition as definitions
from app.questionnaires import library
from app.questionnaires.models import Questionnaire, QuestionnaireResponse
from tenants.db import db

Patient = patients.Patient  # the card model, read by this module's SQL (patients writes it)

MAX_CELL = 32_000  # an XLSX cell holds at most 32,767 characters
BATCH = 500  # responses read from the database at a time


def may_include_identifiers(user) -> bool:
    return user.can("patients.view_mobile") and user.can("patients.view_id_number")


def _columns(defns: list[dict], locale: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(question key, heading) and (score key, heading), newest version's order first, then what older
    versions asked beside it."""
    questions: dict[str, str] = {}
    scores: dict[str, str] = {}
    for defn in defns:
        for _section, question in definitions.iter_questions(defn):
            questions.setdefault(question["key"], library.text(question.get("text"), locale) or question["key"])
        for spec in defn.get("scores", []):
            scores.setdefault(spec["key"], library.text(spec.get("label"), locale) or spec["key"])
    return list(questions.items()), list(scores.items())


def _option(question: dict, code, locale: str) -> str:
    for option in question.get("options") or []:
        if option.get("code") == code:
            return library.text(option.get("label"), locale) or str(code)
    return str(code)


def answer_text(question: dict | None, value, locale: str) -> str:
    """An answer as the reader reads it: option labels, yes/no, a matrix row by row."""
    if value is None or question is None:
        return "" if value is None else str(value)
    qtype = question.get("type")
    if qtype in ("single", "likert"):
        return _option(question, value, locale)
    if qtype == "multiple" and isinstance(value, list):
        return "; ".join(_option(question, code, locale) for code in value)
    if qtype == "yesno":
        return _("Yes") if value is True else _("No") if value is False else str(value)
    if qtype == "matrix" and isinstance(value, dict):
        rows = {r["key"]: library.text(r.get("text"), locale) for r in question.get("rows") or []}
        return "; ".join(f"{rows.get(row, row)}: {_option(question, code, locale)}" for row, code in value.items())
    return str(value)


def _cell(value):
    if isinstance(value, str):
        text = value[:MAX_CELL]
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # never a formula
    return value


def write_workbook(questionnaire: Questionnaire, out: IO[bytes], *, identifiers: bool, locale: str) -> int:
    """Write the workbook to ``out`` (a binary file open for writing); returns how many responses it holds."""
    versions = library.versions(questionnaire)
    defns = {v.id: v.definition for v in versions}
    question_cols, score_cols = _columns([v.definition for v in versions], locale)
    bands = {(v.id, s["key"], b["key"]): library.text(b.get("label"), locale)  # as the response's version says
             for v in versions for s in v.definition.get("scores", []) for b in s.get("bands", [])}
    by_version = {version_id: definitions.questions_by_key(defn) for version_id, defn in defns.items()}
    rows = db.session.execute(
        select(QuestionnaireResponse, Patient).join(Patient, Patient.id == QuestionnaireResponse.patient_id)
        .where(QuestionnaireResponse.questionnaire_id == questionnaire.id,
               QuestionnaireResponse.status == "submitted")
        .order_by(QuestionnaireResponse.submitted_at, QuestionnaireResponse.id)
        .execution_options(yield_per=BATCH))
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=questionnaire.key[:31])
    heading = [_("Submitted"), _("Version"), _("Channel")]
    if identifiers:
        heading += [_("Name"), _("Card number"), _("Mobile")]
    heading += [text for _key, text in question_cols]
    for _key, text in score_cols:
        heading += [text, _("%(score)s: band", score=text)]
    sheet.append([_cell(h) for h in heading])
    count = 0
    for response, patient in rows:
        count += 1
        defn = defns.get(response.version_id, {})
        by_key = by_version.get(response.version_id, {})
        answers = response.answers or {}
        submitted: datetime | None = response.submitted_at
        line: list = [clock.local(submitted).strftime("%Y-%m-%d %H:%M") if submitted else "",
                      defn.get("version", ""), response.channel]
        if identifiers:
            mobile, _id_number = patients.identifiers(patient)
            line += [patient.name, patient.card_no, mobile]
        line += [answer_text(by_key.get(key), answers.get(key), locale) for key, _text in question_cols]
        stored = {s["key"]: s for s in response.scores or []}
        for key, _text in score_cols:
            score = stored.get(key, {})
            band = score.get("band")
            line += [score.get("value"), bands.get((response.version_id, key, band), band or "")]
        sheet.append([_cell(v) for v in line])
    book.save(out)
    return count


def workbook_file(questionnaire: Questionnaire, *, identifiers: bool, locale: str) -> tuple[IO[bytes], int]:
    """The workbook in a temporary file (deleted when closed), positioned at its start, and how many responses
    it holds. The caller sends or closes it."""
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (it outlives this function: the response sends it)
    try:
        count = write_workbook(questionnaire, out, identifiers=identifiers, locale=locale)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out, count
