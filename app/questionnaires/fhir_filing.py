"""Filing FHIR QuestionnaireResponse resources that came over the sync API: by
``POST /api/v1/fhir/QuestionnaireResponse`` (app/questionnaires/api.py) or as
entries of a lab Bundle posted to ``POST /api/v1/fhir`` (records hands them
over: see ``register``). Each completed response is filed under the
questionnaire version its ``questionnaire`` canonical names
(``…/<key>|<version>``, the address our Questionnaire export gives) and the
card its subject identifier names (card number, else resident ID number),
scored and stored like one filled in the portal. The same resource sent
again (by its id or identifier) is not filed twice. Outcomes are in English:
other systems read them."""
from datetime import datetime

from sqlalchemy import select

from app.core import audit
from app.core.errors import FieldErrors
from app.patients import services as patients
from app.questionnaires import fhir_responses, library, responses, submission
from app.questionnaires.models import QuestionnaireResponse, QuestionnaireVersion
from app.records import services as records
from tenants.db import db

SCOPE = "fhir:write"  # what a token needs to file responses, by either door


class Refused(ValueError):
    pass


def issue(severity: str, code: str, text: str) -> dict:
    """One OperationOutcome issue."""
    return {"severity": severity, "code": code, "diagnostics": text}


def file_resources(entries: list[tuple[int, dict]], token) -> tuple[list[dict], int]:
    """File each (position in the request, resource) in a savepoint of its own, so one refused response does
    not undo the others; the caller commits. Returns an issue per entry, naming it by position and id, and how
    many were filed."""
    issues, filed = [], 0
    for position, resource in entries:
        where = f"entry {position}" + (f" (id {resource.get('id')})" if resource.get("id") else "")
        try:
            with db.session.begin_nested():
                outcome = _file(resource, token)
        except (Refused, ValueError) as exc:
            issues.append(issue("error", "processing", f"{where}: {exc}"))
        except FieldErrors as exc:
            named = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            issues.append(issue("error", "processing", f"{where}: answers refused ({named})"))
        else:
            filed += outcome == "filed"
            issues.append(issue("information", "informational", f"{where}: {outcome}"))
    return issues, filed


def register() -> None:
    """QuestionnaireResponse entries of a lab Bundle are filed here, with the scope this door asks for."""
    records.bundle_entries.register("QuestionnaireResponse", scope=SCOPE, file=file_resources)


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
    answers = fhir_responses.answers_from_response(version.definition, resource)
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
