"""Machine-to-machine sync: POST /api/v1/fhir (a Bundle; entries of other
capabilities' resource types, QuestionnaireResponse, are filed by them: see
bundle_entries.py) and /api/v1/hl7 (ORU^R01, answered with an HL7 ACK). Bearer tokens, per clinic. Answers are
in English whatever the clinic's language: lab systems read them."""
import functools
import json

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import force_locale

from app.core import audit, jobs, storage
from app.core.access import public
from app.extensions import csrf
from app.records import api_tokens, bundle_entries, importer, limits
from app.records.parse_fhir import parse_fhir
from app.records.parse_hl7 import (
    UNSUPPORTED_EVENT,
    UNSUPPORTED_TYPE,
    ack_for,
    build_ack,
    error_code,
    parse_batch,
)
from app.records.parsed import ParseError
from tenants.db import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")

FHIR_SYNC_ENTRIES = 300  # a larger bundle is imported in a job and answered 202


def _in_english(view):
    @functools.wraps(view)
    def answer(*args, **kwargs):
        with force_locale("en"):
            return view(*args, **kwargs)

    return answer


_ISSUE_TYPES = {401: "security", 404: "not-found", 405: "not-supported", 413: "too-costly", 500: "exception"}


def _refuse(status: int, message: str):
    return jsonify({"resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": _ISSUE_TYPES.get(status, "invalid"),
                               "diagnostics": message}]}), status


@bp.route("/fhir", methods=["POST"])
@public
@csrf.exempt
@_in_english
def fhir():
    token = api_tokens.authenticate(request.headers.get("Authorization", ""), "fhir:write")
    if token is None:
        db.session.commit()
        return _refuse(401, "a valid bearer token with the fhir:write scope is required")

    data = request.get_data(cache=False)
    handed = bundle_entries.split(data)  # entries other capabilities file (QuestionnaireResponse)
    entries = data.count(b'"resource"') - handed.count
    if handed.lab and entries > current_app.config.get("FHIR_SYNC_ENTRIES", FHIR_SYNC_ENTRIES):
        handed_issues, _filed = bundle_entries.file(handed, token)
        return _accepted(token, data, entries, handed_issues)
    summary = importer.ImportSummary()
    if handed.lab:
        summary = importer.import_parsed(_parsed(parse_fhir, data), actor_id=None, api_token_id=token.id)
        _audit_import(token, summary, "fhir")
    handed_issues, filed = bundle_entries.file(handed, token)
    db.session.commit()
    issues = (outcome(summary.as_dict())["issue"] if handed.lab else []) + handed_issues
    failed = bool(summary.errors) or any(issue["severity"] == "error" for issue in handed_issues)
    status = 200 if not failed else (207 if summary.imported or summary.unmatched or filed else 422)
    return jsonify({"resourceType": "OperationOutcome", "issue": issues}), status


def outcome(summary: dict) -> dict:
    """An import's summary (ImportSummary.as_dict) as an OperationOutcome."""
    issues = [{"severity": "error", "code": "processing", "diagnostics": error} for error in summary["errors"]]
    issues += [{"severity": "warning", "code": "incomplete", "diagnostics": note} for note in summary["warnings"]]
    issues.append({"severity": "information", "code": "informational",
                   "diagnostics": f"imported {summary['imported']}, results {summary['results']}, "
                                  f"duplicates {summary['duplicates']}, unmatched {summary['unmatched']}, "
                                  f"waiting {summary['waiting']}, retracted {summary['retracted']}"})
    return {"resourceType": "OperationOutcome", "issue": issues}


def _accepted(token, data: bytes, entries: int, handed_issues: list[dict]):
    """A large bundle is imported in a job: 202 with the address to ask for its outcome (and the outcome of
    the entries handed over, filed already: the job's import leaves them alone)."""
    key = storage.new_key(token.tenant_id, "imports", ".json")
    storage.backend().save(key, data)
    run = jobs.start("api_import", "app.records.jobs.import_api_bundle", key=key, token_id=token.id)
    location = url_for("api.fhir_status", run_id=run.id)
    body = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "informational",
        "diagnostics": f"accepted {entries} entries for import; ask {location} for the outcome"}] + handed_issues}
    return jsonify(body), 202, {"Content-Location": location, "Location": location}


@bp.route("/fhir/jobs/<id:run_id>", methods=["GET"])
@public
@_in_english
def fhir_status(run_id: int):
    """202 while a large bundle imports (with its progress), then 200 with the OperationOutcome."""
    token = api_tokens.authenticate(request.headers.get("Authorization", ""), "fhir:write")
    if token is None:
        db.session.commit()
        return _refuse(401, "a valid bearer token with the fhir:write scope is required")
    run = jobs.get_run(run_id)
    if run is None or run.kind != "api_import" or run.result_name not in ("", f"token:{token.id}"):
        db.session.commit()
        return _refuse(404, "no such import")
    db.session.commit()
    if run.status == "failed":
        return _refuse(500, f"the import failed: {run.message}")
    if not run.done:
        return jsonify({"resourceType": "OperationOutcome", "issue": [{
            "severity": "information", "code": "informational",
            "diagnostics": f"{run.status}, {run.progress}% done"}]}), 202, {"Retry-After": "5"}
    return jsonify(outcome(json.loads(run.message))), 200


@bp.route("/hl7", methods=["POST"])
@public
@csrf.exempt
@_in_english
def hl7():
    data = request.get_data(cache=False)
    token = api_tokens.authenticate(request.headers.get("Authorization", ""), "hl7:write")
    if token is None:
        db.session.commit()
        return _ack_response(ack_for(data, "AR", "a valid bearer token with the hl7:write scope is required"), 401)
    batch = _parsed(parse_batch, data)
    if batch and isinstance(batch[0], ParseError):  # refused before reading (too large to parse)
        batch = [("", batch)]
    index, total, acks = importer.CodeIndex(), importer.ImportSummary(), []
    for message, items in batch:
        summary = importer.import_parsed(items, actor_id=None, api_token_id=token.id, index=index)
        total.add(summary)
        acks.append(_ack(message, items, summary))
    _audit_import(token, total, "hl7")
    db.session.commit()
    accepted = all(code == "AA" for code, _text in acks)
    return _ack_response("".join(text for _code, text in acks), 200 if accepted else 422)


def _ack(message: str, items: list, summary) -> tuple[str, str]:
    """One message's acknowledgement: AR for a message type this endpoint does not take (ERR-3 200 or
    201), AE with the table 0357 condition for a message that could not be read or whose results could not
    be stored (207 for those), AA otherwise (with an ERR of severity W naming what waits or was refused)."""
    problems = [item for item in items if isinstance(item, ParseError)]
    conditions = [p.condition for p in problems]
    if any(c in (UNSUPPORTED_TYPE, UNSUPPORTED_EVENT) for c in conditions):
        condition = next(c for c in conditions if c in (UNSUPPORTED_TYPE, UNSUPPORTED_EVENT))
        return "AR", build_ack(message, "AR", "; ".join(summary.errors)[:400], error=error_code(condition))
    if summary.errors:
        condition = conditions[0] if conditions else "207"
        return "AE", build_ack(message, "AE", "; ".join(summary.errors)[:400], error=error_code(condition))
    note = f"imported {summary.results} results"
    if summary.unmatched:
        note += f"; {summary.unmatched} reports wait to be matched to a patient"
    if summary.warnings:
        return "AA", build_ack(message, "AA", f"{note}; " + "; ".join(summary.warnings)[:400], severity="W",
                               error=error_code("0"))
    return "AA", build_ack(message, "AA", note)


def _audit_import(token, summary, format: str) -> None:
    """Who sent it: the token (by name) in the trail, and its id on each report it filed."""
    audit.record("reports_imported", actor_label=audit.API_ACTOR + token.name, token=token.name, format=format,
                 reports=summary.imported, results=summary.results, unmatched=summary.unmatched,
                 errors=len(summary.errors))


def error_answer(status: int, message: str):
    """Any error under /api/ (404, 405, 413, 500...) in the endpoint's own format."""
    with force_locale("en"):
        if request.path.rstrip("/").endswith("/hl7"):
            return _ack_response(ack_for(b"", "AR", message), status)
        return _refuse(status, message)


def _parsed(parser, data: bytes) -> list:
    """A body past CAPPED_ABOVE is parsed under the memory ceiling; a refusal is one ParseError."""
    if len(data) <= limits.CAPPED_ABOVE:
        return parser(data)
    try:
        return importer.parse_capped(parser, data)
    except importer.FileTypeError as exc:
        return [ParseError("body", str(exc))]


def _ack_response(message: str, status: int):
    return message, status, {"Content-Type": "application/hl7-v2; charset=utf-8"}
