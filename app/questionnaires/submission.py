"""Submitting a response: check it whole, score it by its version's rules,
store the scores as observations (so tags, trends, follow-up triggers and
alerts read them like a lab value), raise a critical alert for a critical
flag, propose the intake form's history updates, and tell the others.
All in the caller's transaction: nothing is half-written."""
from datetime import datetime

from app.core import audit, clock, events
from app.core.errors import FieldErrors
from app.questionnaires import definition as definitions
from app.questionnaires import library, scoring
from app.questionnaires.models import HistoryProposal, QuestionnaireResponse
from app.questionnaires.responses import OPEN, definition_of, lock
from app.questionnaires.signals import response_submitted
from app.records import services as records
from tenants.db import db

ORIGIN = "response"  # Observation.origin of a questionnaire's score


class AlreadySubmitted(Exception):
    pass


def submit(response: QuestionnaireResponse, patient, raw: dict, *, actor_label: str = "",
           actor_id: int | None = None, authored: datetime | None = None) -> scoring.Result:
    """Score and file the response (``authored``: when a response that came through the API was
    answered); raises FieldErrors (question key -> message) for answers that
    do not do, after keeping them, and AlreadySubmitted for a second submission."""
    lock(response)
    if response.status not in OPEN:
        raise AlreadySubmitted(response.id)
    defn = definition_of(response)
    answers = definitions.clean_answers(defn, raw)
    response.answers = answers
    response.updated_at = clock.utcnow()
    problems = definitions.validate_answers(defn, answers)
    if problems:
        response.status = "in_progress"
        raise FieldErrors({k: str(v) for k, v in problems.items()})
    result = scoring.score(defn, answers)
    response.status = "submitted"
    response.submitted_at = authored or clock.utcnow()
    response.link_nonce = ""
    response.scores = [{"key": s.key, "value": s.value, "band": s.band} for s in result.scores]
    response.flags = [f.key for f in result.flags]
    _store_observations(response, patient, defn, result)
    _propose_history(response, defn, answers)
    audit.record("questionnaire_submitted", patient_id=patient.id, actor_id=actor_id,
                 actor_label=actor_label or (audit.PORTAL_ACTOR if actor_id is None else ""),
                 questionnaire=defn["key"], version=defn.get("version"), flags=response.flags)
    events.send(response_submitted, response_id=response.id, patient_id=patient.id,
                questionnaire_key=defn["key"], scores={s.key: s.value for s in result.scores},
                flags=list(response.flags), context=dict(response.context or {}))
    return result


def _store_observations(response, patient, defn: dict, result: scoring.Result) -> None:
    """One observation per score that declares one and has a value. A score in one of its
    ``alert_at_band`` bands is flagged H; a critical flag of the form marks the first score's
    observation HH, so the responsible doctor gets a critical alert whatever the total."""
    critical = [f for f in result.flags if f.level == "critical"]
    specs = {s["key"]: s for s in defn.get("scores", [])}
    values: list[records.Value] = []
    for score in result.scores:
        spec = specs.get(score.key, {})
        if score.value is None or not score.observation:
            continue
        flag = "H" if score.band and score.band in spec.get("alert_at_band", []) else "N"
        if critical and not values:
            flag = "HH"
        values.append(records.Value(indicator=library.score_indicator(score.observation),
                                    value_text=_number(score.value), unit=score.observation.get("unit", ""),
                                    observed_at=response.submitted_at, lab_flag=flag))
    if not values:
        return
    stored = records.store_many(patient, values, origin=ORIGIN)
    observations = [s.observation for s in stored if s.observation is not None]
    response.context = {**(response.context or {}), "observations": [o.id for o in observations]}
    raised = records.alerts.raise_for(patient, observations)
    if critical and raised:
        note = "; ".join(f.message.get("zh", f.key) for f in critical)
        for alert in raised:
            if alert.kind == "critical":
                alert.summary = f"{note}; {alert.summary}"[:200]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _propose_history(response, defn: dict, answers: dict) -> None:
    for proposal in scoring.history_proposals(defn, answers):
        db.session.add(HistoryProposal(response_id=response.id, patient_id=response.patient_id,
                                       field=proposal["field"], value={"value": proposal["value"]},
                                       question=proposal.get("question", ""), status="pending"))
