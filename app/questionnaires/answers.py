"""The latest submitted answers of a pack questionnaire, for one patient or
many (risk models read questionnaire items this way)."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.questionnaires.models import Questionnaire, QuestionnaireResponse
from tenants.db import db


@dataclass(frozen=True)
class Answers:
    response_id: int
    submitted_at: datetime
    answers: dict


def latest_answers(key: str, patient_ids=None) -> dict[int, Answers]:
    """{patient_id: Answers} of the newest submitted response to the
    questionnaire ``key`` (the clinic's key or the pack's); ``patient_ids``
    None reads the whole clinic."""
    if patient_ids is not None and not patient_ids:
        return {}
    query = (select(QuestionnaireResponse)
             .join(Questionnaire, Questionnaire.id == QuestionnaireResponse.questionnaire_id)
             .where(or_(Questionnaire.key == key, Questionnaire.pack_key == key),
                    QuestionnaireResponse.status == "submitted", QuestionnaireResponse.submitted_at.is_not(None))
             .order_by(QuestionnaireResponse.submitted_at, QuestionnaireResponse.id))
    if patient_ids is not None:
        query = query.where(QuestionnaireResponse.patient_id.in_(list(set(patient_ids))))
    found: dict[int, QuestionnaireResponse] = {}
    for response in db.session.scalars(query):
        found[response.patient_id] = response
    return {pid: Answers(r.id, r.submitted_at, dict(r.answers or {}))
            for pid, r in found.items() if r.submitted_at is not None}
