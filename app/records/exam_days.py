"""Exam days: the clinic days with results staff entered or a lab sent, and the values computed from them
(BMI, eGFR). The patient's own home readings, their questionnaire scores and risk models' results are not
an exam. What printed reports, their batches and releases to the portal go by."""
from datetime import date

from sqlalchemy import func, select

from app.core import clock
from app.records.models import Observation
from tenants.db import db

PATIENT_ORIGIN = "patient"
# Observation.origin of what is not an exam result: home readings, questionnaire scores, risk models' results
NOT_EXAM = (PATIENT_ORIGIN, "response", "risk")
# of those, what the patient gave themselves: their portal shows it at once
THE_PATIENTS_OWN = (PATIENT_ORIGIN, "response")


def is_exam_result(observation) -> bool:
    return observation.origin not in NOT_EXAM


def _current_exam_results():
    return (Observation.superseded_by.is_(None), Observation.origin.not_in(NOT_EXAM))


def patients_examined_on(day: date) -> list[int]:
    """The patients with results on the clinic day ``day``, in the order of their first result that day."""
    rows = db.session.execute(
        select(Observation.patient_id, func.min(Observation.observed_at).label("first"))
        .where(*_current_exam_results(), *clock.within_days(Observation.observed_at, day, day))
        .group_by(Observation.patient_id).order_by("first", Observation.patient_id))
    return [row.patient_id for row in rows]


def last_exam_days(patient_ids: list[int]) -> dict[int, date]:
    """{patient id: the clinic day of their newest exam result} for those with any."""
    if not patient_ids:
        return {}
    rows = db.session.execute(
        select(Observation.patient_id, func.max(Observation.observed_at))
        .where(*_current_exam_results(), Observation.patient_id.in_(list(patient_ids)))
        .group_by(Observation.patient_id))
    return {patient_id: clock.local_date(at) for patient_id, at in rows}
