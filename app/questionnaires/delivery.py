"""Asking patients to fill a questionnaire: a signed link by SMS or email
through the notification outbox, to one patient or to everyone carrying a
tag. The message names no questionnaire (its title can say something about
the patient's health), and the outbox keeps the link sealed like a sign-in
code: it signs its holder in to the response."""
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.core import audit
from app.core.urls import clinic_url
from app.notifications import services as notifications
from app.patients import services as patients
from app.questionnaires import responses
from app.questionnaires.models import Questionnaire, QuestionnaireResponse
from app.tagging import services as tagging
from tenants.db import db
from tenants.models import Tenant

Patient = patients.Patient  # the card model, read by this module's SQL (patients writes it)


@dataclass
class Sent:
    requested: int = 0
    messaged: int = 0
    unreachable: int = 0


def link_url(response: QuestionnaireResponse) -> str:
    clinic = db.session.get_one(Tenant, response.tenant_id)
    return clinic_url(clinic.slug, "questionnaire_links.fill", token=responses.make_token(response))


def send(questionnaire: Questionnaire, patients: list[Patient], *, actor_id: int | None,
         channel: str = "", context: dict | None = None, at: datetime | None = None) -> Sent:
    """Request the questionnaire of each patient and message them its link (the caller commits); ``at``:
    send the message then rather than now (still out of the clinic's quiet hours)."""
    sent = Sent()
    clinic = None
    for patient in patients:
        response = responses.request(questionnaire, patient, channel="link", actor_id=actor_id, context=context)
        response.link_nonce = secrets.token_hex(16)  # a new link: the one sent before stops opening
        sent.requested += 1
        recipient = notifications.patient_recipient(patient)
        wanted = (channel,) if channel else None
        if wanted and not notifications.reachable(recipient, channel):
            sent.unreachable += 1
            continue
        clinic = clinic or db.session.get_one(Tenant, patient.tenant_id)
        rows = notifications.notify(
            "questionnaire_request", recipient,
            {"patient_name": patient.name, "clinic": clinic.name, "url": link_url(response),
             "days": responses.LINK_DAYS},
            idempotency_key=f"questionnaire:{response.id}:{response.link_nonce}", channels=wanted,
            actor_id=actor_id, channel_by_channel=True, secret_until=response.expires_at, at=at)
        if rows:
            sent.messaged += 1
        else:
            sent.unreachable += 1
    audit.record("questionnaire_sent", questionnaire=questionnaire.key, patients=sent.requested,
                 messaged=sent.messaged, actor_id=actor_id)
    return sent


def patients_with_tag(tag_id: int) -> list[Patient]:
    return list(db.session.scalars(select(Patient).where(
        tagging.having_tag(Patient.id, tag_id), Patient.archived_at.is_(None)).order_by(Patient.id)))
