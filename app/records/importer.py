"""One import service behind every door (upload, API, CLI, job).

Each report imports atomically inside its own savepoint, and the other reports
of the same file go on whatever happens to it. Within a report, every result
whose code is known is stored; a result with an unknown code, without a unit or
in a unit that does not convert waits (waiting.py) until its code is mapped, and
a value no measurement can have (outside the indicator's plausible limits, a
date or text for a number) is refused with the reason. Re-sending a report
stores nothing new; a corrected result supersedes the earlier value and a
retracted one (HL7 OBX-11 W/D/X, FHIR entered-in-error/cancelled) leaves the
current results. A report that matches no patient, or whose identifiers
contradict each other, waits in the unmatched queue with its parsed content; a
report filed for one patient is never moved to another by a later message.
"""
import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core import audit, clock, events, identity, memlimit
from app.patients import services as patients
from app.records import alerts, catalogue, limits, results, waiting
from app.records.models import ExamReport
from app.records.parse_fhir import parse_fhir
from app.records.parse_hl7 import parse_hl7
from app.records.parse_table import ColumnMapping, parse_table, read_headers, suggest_mapping, unpacked_size
from app.records.parsed import CANCELLED, ParsedReport, ParsedResult, ParseError, PatientRef
from app.records.signals import report_imported
from tenants.db import db

MAX_BYTES = limits.MAX_BYTES
CodeIndex = catalogue.CodeIndex


class ReportError(Exception):
    pass


class FileTypeError(ValueError):
    pass


@dataclass
class ImportSummary:
    imported: int = 0
    results: int = 0
    duplicates: int = 0
    unmatched: int = 0
    waiting: int = 0
    retracted: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def add(self, other: "ImportSummary") -> None:
        for name in ("imported", "results", "duplicates", "unmatched", "waiting", "retracted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
        self.warnings += other.warnings
        self.report_ids += other.report_ids


# ------------------------------------------------------------------ formats

def detect_format(data: bytes, filename: str) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf\x0b \r\n\t")
    name = (filename or "").lower()
    if head.startswith((b"MSH", b"FHS", b"BHS")) or b"\rMSH|" in head or b"\nMSH|" in head:
        return "hl7"  # batch files, and stray text before the first MSH (the parser names it)
    if head.startswith(b"{"):
        return "fhir"
    if head.startswith(b"PK\x03\x04") and name.endswith(".xlsx"):
        return "table"
    if name.endswith((".csv", ".txt", ".tsv")) and b"\x00" not in head:
        return "table"
    raise FileTypeError(_("%(name)s is not an HL7 v2 message, a FHIR JSON file, a CSV or an XLSX spreadsheet.",
                          name=filename or _("The file")))


def parse(data: bytes, filename: str, mapping: dict | None = None) -> list:
    if len(data) > MAX_BYTES:
        raise FileTypeError(_("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    kind = detect_format(data, filename)
    if kind == "hl7":

        return parse_hl7(data)
    if kind == "fhir":

        return parse_fhir(data)

    if mapping:
        column_mapping = ColumnMapping.from_dict(mapping)
    else:

        column_mapping = suggest_mapping(read_headers(data, filename))
    return parse_table(data, filename, column_mapping)


def parse_capped(parser, *args) -> list:
    """``parser(*args)`` (``parse``, ``parse_fhir``, ``parse_hl7``) in a child process under the memory
    ceiling (IMPORT_PARSE_MEMORY_MB): a file within every limit that still needs too much memory is
    refused with a message instead of growing the worker or the web process."""
    clock.zone_name()  # read now: the child must not use the database
    limit = int(current_app.config.get("IMPORT_PARSE_MEMORY_MB") or limits.PARSE_MEMORY_MB)
    try:
        items, refusal = memlimit.run_capped(limit, _refusal_apart, parser, *args)
    except memlimit.OutOfMemory:
        raise FileTypeError(_("Reading this file needs more than %(mb)d MB of memory, more than an import may "
                              "use: split it into smaller files.", mb=limit)) from None
    except memlimit.ChildFailed as exc:
        raise RuntimeError(f"parsing failed in the child process: {exc}") from None
    if refusal is not None:
        raise FileTypeError(refusal)
    return items


def _refusal_apart(parser, *args) -> tuple[list, str | None]:
    try:
        return parser(*args), None
    except FileTypeError as exc:
        return [], str(exc)


def needs_job(data: bytes, inline_limit: int) -> bool:
    """Whether an upload is read in a job (under the memory ceiling) rather than in the request:
    larger than ``inline_limit``, or an XLSX that unpacks to more than sixteen times that."""
    return len(data) > inline_limit or unpacked_size(data) > 16 * inline_limit


# ------------------------------------------------------------------ matching

def match_patient(ref: PatientRef) -> patients.Patient | None:
    """By card number, then ID number (blind index), then name + birth date. A card whose holder the
    report's ID number or name contradicts is not trusted: the report waits for a person."""
    found = patients.find_by_card_no(ref.card_no) if ref.card_no else None
    if found is not None and _contradicts(found, ref):
        return None
    found = found or patients.find_by_id_number(ref.id_number)
    if found is None and ref.name and ref.birth_date:
        found = patients.find_one_by_name_and_birth(ref.name, ref.birth_date)
    return found


def _folded_name(name: str) -> list[str]:
    """A name to compare: Chinese without spaces; Latin names by their words in any order ("Paul Miller"
    is "MILLER PAUL")."""
    if any("\u3400" <= c <= "\u9fff" for c in name):
        return ["".join(name.split())]
    return sorted(name.casefold().replace(",", " ").split())


def _contradicts(patient: patients.Patient, ref: PatientRef) -> bool:
    """The report's ID number or name is not the card holder's."""
    if patients.has_other_id_number(patient, ref.id_number):
        return True
    return bool(ref.name.strip() and patient.name and _folded_name(ref.name) != _folded_name(patient.name))


def _check_forced(patient: patients.Patient, ref: PatientRef) -> None:
    """A file uploaded on a patient's page: its own identifiers must not name someone else. A lab's
    record number is not the clinic's card number: only a number shaped like this clinic's cards is."""
    card = ref.card_no.strip().upper()
    if card and patients.is_card_number(card) and card != patient.card_no:
        raise ReportError(_("this report is for card %(card)s, not for %(name)s", card=ref.card_no, name=patient.name))
    if patients.has_other_id_number(patient, ref.id_number):
        raise ReportError(_("this report carries another person's ID number"))


def _hint(ref: PatientRef) -> str:
    parts = [ref.name, ref.card_no, ref.birth_date.isoformat() if ref.birth_date else "",
             identity.mask_id(identity.normalise_id(ref.id_number)) if ref.id_number else ""]
    return " · ".join(p for p in parts if p)[:200]


# ------------------------------------------------------------------ import

@dataclass
class Checked:
    """A report's results sorted before anything is stored."""

    values: list[results.Value] = field(default_factory=list)
    held: list[waiting.Held] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


# Numbers a lab system should not send but some do ("1e78", "Infinity", "NaN"): read, then refused
_ODD_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*[eE][+-]?\d+|inf(?:inity)?|nan)$", re.IGNORECASE)


def _number(result: ParsedResult) -> float | None:
    if result.value_kind == "text":
        return None
    if result.value_kind == "number" and result.value is not None:
        return result.value
    text = result.value_text.strip()
    return float(text) if _ODD_NUMBER.match(text) else catalogue.as_number(text)


def _check(report: ParsedReport, index: catalogue.CodeIndex) -> Checked:
    checked = Checked()
    for result in report.results:
        where = result.position or result.code
        match = index.find(result.code, result.name, report.sender, others=result.alt_codes)
        if match is None:
            checked.held.append(waiting.Held(result, waiting.UNMAPPED))
            continue
        observed_at = result.observed_at or report.observed_at
        if observed_at is None:
            raise ReportError(_("%(where)s: no exam date or time", where=where))
        indicator, unit = match.indicator, result.unit or match.implied_unit
        value = results.Value(indicator, result.value_text, unit, observed_at, result.ref_low, result.ref_high,
                              result.ref_text, result.flag, result.status)
        if result.status == CANCELLED:
            checked.values.append(value)
            continue
        number = _number(result)
        if number is None:
            if result.value_kind == "text" and indicator.unit:
                checked.refused.append(_("%(where)s: %(value)r is a date, text or coded value, not a number for "
                                         "%(name)s", where=where, value=result.value_text[:40],
                                         name=indicator.name_zh))
                continue
            value.numeric = False
            checked.values.append(value)
            continue
        if not unit and indicator.unit:
            checked.held.append(waiting.Held(result, waiting.NO_UNIT))
            continue
        try:
            normalised = catalogue.convert(number, unit, indicator) if math.isfinite(number) else number
        except catalogue.CatalogueError:
            checked.held.append(waiting.Held(result, waiting.BAD_UNIT))
            continue
        if problem := catalogue.implausible(normalised, indicator):
            checked.refused.append(_("%(where)s: %(value)s %(unit)s refused: %(problem)s", where=where,
                                     value=result.value_text[:40], unit=unit, problem=problem))
            continue
        checked.values.append(value)
    return checked


def _held_note(label: str, held: list[waiting.Held]) -> str:
    """Every code of the report that waits, named at once."""
    reasons = {waiting.UNMAPPED: _("unknown code"), waiting.NO_UNIT: _("no unit"), waiting.BAD_UNIT: _("unit")}
    items = "; ".join(f"{h.result.code} ({h.result.name or '—'}, {reasons[h.reason]}"
                      + (f" {h.result.unit}" if h.reason == waiting.BAD_UNIT else "") + ")" for h in held)
    return _("%(report)s: %(n)d results wait on the lab codes page: %(items)s", report=label, n=len(held),
             items=items)


def _existing(report: ParsedReport) -> ExamReport | None:
    return db.session.scalar(select(ExamReport).where(ExamReport.source == report.source,
                                                      ExamReport.source_key == report.source_key[:300]))


def _report_row(report: ParsedReport, patient: patients.Patient | None, actor_id, api_token_id=None) -> ExamReport:
    row = _existing(report)
    if row is None:
        row = ExamReport(source=report.source, source_key=report.source_key[:300], imported_by=actor_id,
                         api_token_id=api_token_id)
        db.session.add(row)
    row.sender, row.title, row.label = report.sender[:120], report.title[:200], report.label[:200]
    row.observed_at = report.observed_at
    row.patient_hint = _hint(report.patient)
    filed_now = patient is not None and row.patient_id is None  # a new report, or an unmatched one assigned
    if patient is not None:
        row.patient_id, row.status, row.pending = patient.id, "imported", None
    db.session.flush()
    if filed_now and patient is not None:
        events.send(report_imported, report_id=row.id, patient_id=patient.id, label=row.title or "")
    return row


def _import_one(report: ParsedReport, index, summary: ImportSummary, patient: patients.Patient | None,
                actor_id, api_token_id=None) -> None:
    if patient is not None:
        _check_forced(patient, report.patient)
    else:
        patient = match_patient(report.patient)
    summary.warnings.extend(f"{report.label}: {w}" for w in report.warnings)
    filed = _existing(report)
    if patient is not None and filed is not None and filed.patient_id not in (None, patient.id):
        _hold_conflict(report, filed, patient, summary, actor_id, api_token_id)
        return
    if patient is None:
        row = _report_row(report, None, actor_id, api_token_id)
        if row.patient_id is None:  # not a resend of a report already filed for someone
            row.status, row.pending = "unmatched", report_to_json(report)
        summary.unmatched += 1
        summary.report_ids.append(row.id)
        return
    checked = _check(report, index)
    if not checked.values and not checked.held:
        raise ReportError("; ".join(checked.refused) or _("the report holds no results"))
    row = _report_row(report, patient, actor_id, api_token_id)
    stored = results.store_many(patient, checked.values, report_id=row.id, origin="import", actor_id=actor_id)
    waiting.hold(row, patient.id, checked.held)
    # a "new" outcome always carries its observation
    fresh = [s.observation for s in stored if s.outcome == "new" and s.observation is not None]
    retracted = [s.observation for s in stored if s.outcome == "retracted" and s.observation is not None]
    summary.duplicates += sum(s.outcome == "duplicate" for s in stored)
    for moment in sorted({o.observed_at for o in fresh}):
        fresh.extend(results.derive(patient, moment, report_id=row.id, indicator=index.indicator))
    alerts.raise_for(patient, fresh)
    if retracted:
        alerts.withdraw([o.id for o in retracted])
        for observation in retracted:
            audit.record("result_retracted", patient_id=patient.id, **import_actor(actor_id, api_token_id),
                         report=row.id, indicator=index.indicator_by_id(observation.indicator_id),
                         value=observation.value_text)
    summary.warnings.extend(f"{report.label}: {problem}" for problem in checked.refused)
    if checked.held:
        summary.warnings.append(_held_note(report.label, checked.held))
    summary.results += len(fresh)
    summary.retracted += len(retracted)
    summary.waiting += len(checked.held)
    summary.imported += 1 if fresh or retracted else 0
    summary.report_ids.append(row.id)


def import_actor(actor_id: int | None, api_token_id: int | None) -> dict:
    """Who an import's audit events name: the staff member, else the lab's API token."""
    if actor_id is None and api_token_id is not None:
        return {"actor_label": f"{audit.API_ACTOR}token {api_token_id}"}
    return {"actor_id": actor_id}


def _hold_conflict(report: ParsedReport, filed: ExamReport, patient: patients.Patient, summary: ImportSummary,
                   actor_id, api_token_id) -> None:
    """The same sender and order number, filed earlier for someone else: the earlier report stays where it
    is, and this one waits in the unmatched queue for a person to decide."""
    digest = hashlib.sha256(repr(report_to_json(report)).encode()).hexdigest()[:16]
    conflict = dataclasses.replace(report, source_key=f"{report.source_key[:260]}#conflict:{digest}")
    row = _report_row(conflict, None, actor_id, api_token_id)
    if row.patient_id is None:
        row.status, row.pending = "unmatched", report_to_json(report)
        row.patient_hint = (_("conflict: report %(id)s was filed for another card", id=filed.id) + " · "
                            + _hint(report.patient))[:200]
    audit.record("report_conflict", patient_id=filed.patient_id, **import_actor(actor_id, api_token_id),
                 report=filed.id, held=row.id)
    summary.unmatched += 1
    summary.warnings.append(_("%(report)s: the same order was filed for another patient; this message waits "
                              "in the unmatched reports for a person to check", report=report.label))
    summary.report_ids.append(row.id)


def import_parsed(items: list, *, patient: patients.Patient | None = None, actor_id: int | None = None,
                  api_token_id: int | None = None, progress=None, commit_every: int = 0,
                  index: catalogue.CodeIndex | None = None) -> ImportSummary:
    """Import parsed reports (``index``: a code index to reuse across calls of one request)."""
    summary = ImportSummary()
    index = index or catalogue.CodeIndex()
    for number, item in enumerate(items, start=1):
        if isinstance(item, ParseError):
            summary.errors.append(str(item))
        else:
            try:
                with db.session.begin_nested():
                    _import_one(item, index, summary, patient, actor_id, api_token_id)
            except (ReportError, catalogue.CatalogueError) as exc:
                summary.errors.append(f"{item.label}: {exc}")
        if commit_every and number % commit_every == 0:
            db.session.commit()
        if progress and (number % 20 == 0 or number == len(items)):
            progress(number, len(items))
    return summary


def import_file(data: bytes, filename: str, **kwargs) -> ImportSummary:
    mapping = kwargs.pop("mapping", None)
    try:
        if needs_job(data, limits.CAPPED_ABOVE):
            items = parse_capped(parse, data, filename, mapping)
        else:
            items = parse(data, filename, mapping)
    except FileTypeError as exc:
        return ImportSummary(errors=[str(exc)])
    return import_parsed(items, **kwargs)


def release_waiting(sender: str, code: str, actor_id: int | None) -> ImportSummary:
    """A lab code was mapped: the results that waited for it are imported into their reports (what
    still cannot be stored waits again). The caller commits."""
    summary = ImportSummary()
    index = catalogue.CodeIndex()
    for patient_id, parsed in waiting.take(sender, code):
        patient = patients.get(patient_id)
        if patient is None:
            continue
        with db.session.begin_nested():
            _import_one(parsed, index, summary, patient, actor_id)
    return summary


# ----------------------------------------------------------- unmatched queue

def report_to_json(report: ParsedReport) -> dict:
    def encode(value):
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        return value

    raw = dataclasses.asdict(report)
    raw["observed_at"] = encode(raw["observed_at"])
    raw["patient"]["birth_date"] = encode(raw["patient"]["birth_date"])
    for result in raw["results"]:
        result["observed_at"] = encode(result["observed_at"])
    return raw


def report_from_json(raw: dict) -> ParsedReport:
    def moment(text):
        return datetime.fromisoformat(text) if text else None

    patient = dict(raw["patient"])
    patient["birth_date"] = date.fromisoformat(patient["birth_date"]) if patient.get("birth_date") else None
    results = [ParsedResult(**dict(r, observed_at=moment(r.get("observed_at")))) for r in raw["results"]]
    return ParsedReport(**dict(raw, patient=PatientRef(**patient), observed_at=moment(raw.get("observed_at")),
                               results=results))


def unmatched(limit: int = 100) -> list[ExamReport]:
    return list(db.session.scalars(select(ExamReport).where(ExamReport.status == "unmatched")
                                   .order_by(ExamReport.id.desc()).limit(limit)))


def get_report(report_id: int) -> ExamReport | None:
    return db.session.scalar(select(ExamReport).where(ExamReport.id == report_id))


def assign(row: ExamReport, patient: patients.Patient, actor_id: int | None) -> ImportSummary:
    """Import a waiting report for the patient staff chose."""
    if row.pending is None:  # an unmatched report keeps its parsed content until it is filed
        raise ValueError(f"report {row.id} has no parsed content waiting")
    report = report_from_json(row.pending)
    report.patient = PatientRef(name=report.patient.name)  # staff decided who it is
    return import_parsed([report], patient=patient, actor_id=actor_id)


def unmatched_count() -> int:
    return db.session.execute(select(func.count()).select_from(ExamReport)
                              .where(ExamReport.status == "unmatched")).scalar_one()
