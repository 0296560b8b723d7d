"""Machine-to-machine sync: POST /api/v1/fhir (a Bundle) and /api/v1/hl7
(ORU^R01, answered with an HL7 ACK). Bearer tokens, per clinic. Answers are
in English whatever the clinic's language: lab systems read them."""
import functools

from flask import Blueprint, jsonify, request
from flask_babel import force_locale

from app.core import audit
from app.core.access import public
from app.extensions import csrf
from app.records import api_tokens, importer, limits
from app.records.parse_fhir import parse_fhir
from app.records.parse_hl7 import ack_for, parse_hl7
from app.records.parsed import ParseError
from tenants.db import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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

    summary = importer.import_parsed(_parsed(parse_fhir, request.get_data(cache=False)), actor_id=None,
                                     api_token_id=token.id)
    _audit_import(token, summary, "fhir")
    db.session.commit()
    issues = [{"severity": "error", "code": "processing", "diagnostics": error} for error in summary.errors]
    issues.append({"severity": "information", "code": "informational",
                   "diagnostics": f"imported {summary.imported}, results {summary.results}, "
                                  f"duplicates {summary.duplicates}, unmatched {summary.unmatched}"})
    status = 200 if not summary.errors else (422 if not summary.imported and not summary.unmatched else 207)
    return jsonify({"resourceType": "OperationOutcome", "issue": issues}), status


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
    summary = importer.import_parsed(_parsed(parse_hl7, data), actor_id=None, api_token_id=token.id)
    _audit_import(token, summary, "hl7")
    db.session.commit()
    if summary.errors:
        return _ack_response(ack_for(data, "AE", "; ".join(summary.errors)[:400]), 422)
    return _ack_response(ack_for(data, "AA", f"imported {summary.results} results"), 200)


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
