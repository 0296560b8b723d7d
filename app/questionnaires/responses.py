"""A patient's response: requested (a signed link, or found in the portal),
saved as the patient goes, then submitted once and scored.

A link signs its holder in to that one response only: it names the clinic,
the response and the patient, carries a nonce that submission clears (so it
cannot submit twice) and stops working after its days."""
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from app.core import audit, clock
from app.core.errors import FieldErrors
from app.questionnaires import definition as definitions
from app.questionnaires import library
from app.questionnaires.models import Questionnaire, QuestionnaireResponse
from tenants.db import db

LINK_DAYS = 14
SALT = "careloop-questionnaire-link"
OPEN = ("requested", "in_progress")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def request(questionnaire: Questionnaire, patient, *, channel: str, actor_id: int | None = None,
            context: dict | None = None, days: int = LINK_DAYS) -> QuestionnaireResponse:
    """The patient's open response to the questionnaire's current version, or a new one (the caller
    commits). Asking again does not make a second open response."""
    version = library.current_version(questionnaire)
    if version is None:
        raise FieldErrors({"questionnaire": "unpublished"})
    found = db.session.scalar(select(QuestionnaireResponse).where(
        QuestionnaireResponse.patient_id == patient.id, QuestionnaireResponse.questionnaire_id == questionnaire.id,
        QuestionnaireResponse.status.in_(OPEN)).order_by(QuestionnaireResponse.requested_at.desc()).limit(1))
    expires = clock.utcnow() + timedelta(days=days)
    if found is not None and not _expired(found):
        found.expires_at = max(found.expires_at or expires, expires)
        if context:
            found.context = {**(found.context or {}), **context}
        return found
    response = QuestionnaireResponse(
        questionnaire_id=questionnaire.id, version_id=version.id, patient_id=patient.id, status="requested",
        channel=channel, answers={}, scores=[], flags=[], link_nonce=secrets.token_hex(16), requested_by=actor_id,
        expires_at=expires, context=context or {})
    db.session.add(response)
    db.session.flush()
    return response


def _expired(response: QuestionnaireResponse) -> bool:
    return response.expires_at is not None and response.expires_at <= clock.utcnow()


def make_token(response: QuestionnaireResponse) -> str:
    return _serializer().dumps({"t": response.tenant_id, "r": response.id, "p": response.patient_id,
                                "n": response.link_nonce})


def read_token(token: str, tenant_id: int) -> QuestionnaireResponse | None:
    """The response a link opens, or None: forged, another clinic's, older than LINK_DAYS, for a
    response that was cancelled, expired, or submitted already with this link."""
    try:
        data = _serializer().loads(token, max_age=LINK_DAYS * 86400)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or data.get("t") != tenant_id:
        return None
    response = db.session.scalar(select(QuestionnaireResponse).where(QuestionnaireResponse.id == data.get("r")))
    if response is None or response.patient_id != data.get("p") or response.status == "cancelled":
        return None
    if response.status == "submitted":
        return response  # the link shows its thanks page, never the form again
    if not response.link_nonce or not secrets.compare_digest(response.link_nonce, str(data.get("n", ""))):
        return None
    return None if _expired(response) else response


def definition_of(response: QuestionnaireResponse) -> dict:
    version = library.version(response.version_id)
    if version is None:  # the foreign key keeps it
        raise LookupError(response.version_id)
    return version.definition


def lock(response: QuestionnaireResponse) -> QuestionnaireResponse:
    """The response read again under a row lock: an autosave still on its way when the patient presses
    Submit must not turn a submitted response back into one being filled in."""
    db.session.scalar(select(QuestionnaireResponse).where(QuestionnaireResponse.id == response.id)
                      .with_for_update().execution_options(populate_existing=True))
    return response


def save(response: QuestionnaireResponse, raw: dict) -> dict[str, str]:
    """Keep what the patient has typed so far (valid or not, so nothing is lost); return the problems
    with it. Nothing changes once submitted."""
    lock(response)
    if response.status not in OPEN:
        return {}
    defn = definition_of(response)
    answers = definitions.clean_answers(defn, raw)
    response.answers = answers
    response.status = "in_progress"
    response.updated_at = clock.utcnow()
    return {k: str(v) for k, v in definitions.validate_answers(defn, answers, partial=True).items()}


def for_patient(patient_id: int) -> list[QuestionnaireResponse]:
    return list(db.session.scalars(select(QuestionnaireResponse).where(
        QuestionnaireResponse.patient_id == patient_id, QuestionnaireResponse.status != "cancelled")
        .order_by(QuestionnaireResponse.requested_at.desc())))


def get(response_id: int) -> QuestionnaireResponse | None:
    return db.session.scalar(select(QuestionnaireResponse).where(QuestionnaireResponse.id == response_id))


def cancel(response: QuestionnaireResponse, *, actor_id: int) -> bool:
    if response.status not in OPEN:
        return False
    response.status = "cancelled"
    response.link_nonce = ""
    audit.record("questionnaire_cancelled", patient_id=response.patient_id,
                 actor_id=actor_id)
    return True
