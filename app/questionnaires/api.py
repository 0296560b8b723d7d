"""FHIR R4 QuestionnaireResponse through the sync API: POST one resource, or
a Bundle of them, to /api/v1/fhir/QuestionnaireResponse with a bearer token
of the fhir:write scope; filed as app/questionnaires/fhir_filing.py says
(a lab Bundle posted to /api/v1/fhir may carry them too). Answers are in
English: other systems read them."""
import json

from flask import Blueprint, jsonify, request
from flask_babel import force_locale

from app.core.access import public
from app.extensions import csrf
from app.questionnaires.fhir_filing import SCOPE, Refused, file_resources, issue
from app.records import services as records
from tenants.db import db

bp = Blueprint("questionnaire_api", __name__, url_prefix="/api/v1/fhir")
MAX_BYTES = 2 * 1024 * 1024


@bp.route("/QuestionnaireResponse", methods=["POST"])
@public
@csrf.exempt
def post_responses():
    with force_locale("en"):
        token = records.api_tokens.authenticate(request.headers.get("Authorization", ""), SCOPE)
        if token is None:
            db.session.commit()
            return jsonify({"resourceType": "OperationOutcome", "issue": [issue(
                "error", "security", f"a valid bearer token with the {SCOPE} scope is required")]}), 401
        try:
            resources = _resources(request.get_data(cache=False))
        except Refused as exc:
            db.session.commit()
            return jsonify({"resourceType": "OperationOutcome", "issue": [issue("error", "invalid", str(exc))]}), 400
        issues, filed = file_resources(list(enumerate(resources, 1)), token)
        db.session.commit()
    status = 200 if filed == len(resources) or not any(i["severity"] == "error" for i in issues) else \
        (207 if filed else 422)
    return jsonify({"resourceType": "OperationOutcome", "issue": issues}), status


def _resources(data: bytes) -> list[dict]:
    if len(data) > MAX_BYTES:
        raise Refused(f"the body is larger than {MAX_BYTES // 1024} KiB")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Refused("the body is not a FHIR resource")
    if body.get("resourceType") == "QuestionnaireResponse":
        return [body]
    if body.get("resourceType") == "Bundle":
        found = [e.get("resource") for e in body.get("entry") or [] if isinstance(e, dict)]
        kept = [r for r in found if isinstance(r, dict) and r.get("resourceType") == "QuestionnaireResponse"]
        if not kept or len(kept) != len(found):
            raise Refused("a Bundle sent here holds QuestionnaireResponse resources only")
        return kept
    raise Refused("send a QuestionnaireResponse or a Bundle of them")
