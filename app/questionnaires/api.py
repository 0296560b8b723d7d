"""FHIR R4 QuestionnaireResponse through the sync API: POST one resource, or
a Bundle of them, to /api/v1/fhir/QuestionnaireResponse with a bearer token
of the fhir:write scope. Each completed response is filed under the
questionnaire version its ``questionnaire`` canonical names
(``…/<key>|<version>``, the address our Questionnaire export gives) and the
card its subject identifier names (card number, else resident ID number),
scored and stored like one filled in the portal. The same resource sent
again (by its id or identifier) is not filed twice. Answers are in English:
other systems read them."""
import json
from datetime import datetime

from flask import Blueprint, jsonify, request
from flask_babel import force_locale
from sqlalchemy import select

from app.core import audit
from app.core.access import public
from app.core.errors import FieldErrors
from app.extensions import csrf
from app.patients import services as patients
from app.questionnaires import fhir, library, responses, submission
from app.questionnaires.models import QuestionnaireResponse, QuestionnaireVersion
from app.records import services as records
from tenants.db import db

bp = Blueprint("questionnaire_api", __name__, url_prefix="/api/v1/fhir")
MAX_BYTES = 2 * 1024 * 1024


class Refused(ValueError):
    pass


def _issue(severity: str, code: str, text: str) -> dict:
    return {"severity": severity, "code": code, "diagnostics": text}


@bp.route("/QuestionnaireResponse", methods=["POST"])
@public
@csrf.exempt
def post_responses():
    with force_locale("en"):
        token = records.api_tokens.authenticate(request.headers.get("Authorization", ""), "fhir:write")
        if token is None:
            db.session.commit()
            return jsonify({"resourceType": "OperationOutcome", "issue": [_issue(
                "error", "security", "a valid bearer token with the fhir:write scope is required")]}), 401
        try:
            resources = _resources(request.get_data(cache=False))
        except Refused as exc:
            db.session.commit()
            return jsonify({"resourceType": "OperationOutcome", "issue": [_issue("error", "invalid", str(exc))]}), 400
        issues, filed = [], 0
        for position, resource in enumerate(resources, 1):
            where = f"entry {position}" + (f" (id {resource.get('id')})" if resource.get("id") else "")
            try:
                with db.session.begin_nested():  # one bad response does not undo the others
                    outcome = _file(resource, token)
            except (Refused, ValueError) as exc:
                issues.append(_issue("error", "processing", f"{where}: {exc}"))
            except FieldErrors as exc:
                named = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
                issues.append(_issue("error", "processing", f"{where}: answers refused ({named})"))
            else:
                filed += outcome == "filed"
                issues.append(_issue("information", "informational", f"{where}: {outcome}"))
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


def _source_key(resource: dict, token) -> str:
    identifier = resource.get("identifier") or {}
    ident = identifier.get("value") if isinstance(identifier, dict) else ""
    own = ident or resource.get("id") or ""
    return f"{token.id}:{own}"[:120] if own else ""


def _file(resource: dict, token) -> str:
    if resource.get("status") != "completed":
        raise Refused(f"status {resource.get('status')!r}: only completed responses are filed")
    key = _source_key(resource, token)
    if key and db.session.scalar(select(QuestionnaireResponse.id).where(
            QuestionnaireResponse.context["source_key"].as_string() == key)):
        return "sent before; not filed again"
    version = _version(resource.get("questionnaire") or "")
    patient = _patient(resource.get("subject") or {})
    answers = fhir.answers_from_response(version.definition, resource)
    questionnaire = library.get(version.questionnaire_id)
    if questionnaire is None:  # the version's foreign key keeps it
        raise Refused("questionnaire not found")
    response = responses.request(questionnaire, patient, channel="api", context={"source_key": key}, days=1)
    if response.version_id != version.id:
        response.version_id = version.id
    response.channel = "api"
    submission.submit(response, patient, answers, actor_label=f"{audit.API_ACTOR}{token.name}",
                      authored=_authored(resource.get("authored")))
    return "filed"


def _version(canonical: str) -> QuestionnaireVersion:
    url, _sep, number = canonical.partition("|")
    key = url.rstrip("/").rsplit("/", 1)[-1]
    questionnaire = library.by_key(key) if key else None
    if questionnaire is None:
        raise Refused(f"questionnaire {canonical!r} is not one of this clinic's")
    wanted = int(number) if number.isdigit() else questionnaire.current_version
    found = next((v for v in library.versions(questionnaire) if v.version == wanted), None)
    if found is None:
        raise Refused(f"questionnaire {key!r} has no version {number or wanted}")
    return found


def _patient(subject: dict):
    identifier = subject.get("identifier") if isinstance(subject, dict) else None
    value = (identifier or {}).get("value", "") if isinstance(identifier, dict) else ""
    value = str(value).strip()
    patient = patients.find_by_card_no(value) if value else None
    if patient is None and value:
        patient = patients.find_by_id_number(value)
    if patient is None:
        raise Refused("subject.identifier names no card of this clinic (card number or resident ID number)")
    return patient


def _authored(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"authored {text!r} is not a FHIR dateTime") from None
    if moment.tzinfo is None:
        raise Refused(f"authored {text!r} has no time zone")
    return moment
