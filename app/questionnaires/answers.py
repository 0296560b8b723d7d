"""The latest submitted answers of a pack questionnaire, for one patient or
many (risk models read questionnaire items this way, advice sheets the
scores' bands), and the weekly minutes of activity an IPAQ response gives."""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from app.questionnaires.models import Questionnaire, QuestionnaireResponse
from tenants.db import db


@dataclass(frozen=True)
class Answers:
    response_id: int
    submitted_at: datetime
    answers: dict
    scores: list = field(default_factory=list)  # [{key, value, band}] as scored at submission


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
    return {pid: Answers(r.id, r.submitted_at, dict(r.answers or {}), list(r.scores or []))
            for pid, r in found.items() if r.submitted_at is not None}


IPAQ_CAP_MINUTES = 180      # per intensity and day (IPAQ scoring protocol 2005, truncation rule)
IPAQ_MAX_DAY_MINUTES = 960  # a day's total above this: the response is not scored (same protocol)


@dataclass(frozen=True)
class WeeklyActivity:
    """Minutes a week of each intensity from an IPAQ short response, each
    day's minutes capped at 180 as the protocol does; ``missing`` names the
    answers without which a figure cannot be given (then it is None)."""
    vigorous: int | None
    moderate: int | None
    walking: int | None
    missing: tuple[str, ...] = ()
    excluded: bool = False  # over 960 minutes a day in all: the protocol drops the response


def _number(value) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def weekly_activity(answers: dict) -> WeeklyActivity:
    """The IPAQ short form's weekly minutes (items vig_, mod_, walk_ days and
    minutes). Days of 0 give 0 minutes; days without their minutes give None."""
    found: dict[str, int | None] = {}
    missing: list[str] = []
    day_total = 0
    for name in ("vig", "mod", "walk"):
        days, minutes = _number(answers.get(f"{name}_days")), _number(answers.get(f"{name}_minutes"))
        if days is None:
            found[name] = None
            missing.append(f"{name}_days")
        elif days == 0:
            found[name] = 0
        elif minutes is None:
            found[name] = None
            missing.append(f"{name}_minutes")
        else:
            day_total += minutes
            found[name] = days * min(minutes, IPAQ_CAP_MINUTES)
    return WeeklyActivity(found["vig"], found["mod"], found["walk"], tuple(missing),
                          excluded=day_total > IPAQ_MAX_DAY_MINUTES)
