"""What needs a person's attention on the staff home pages and the task page:
new abnormal results of a doctor's patients, reports that wait for a person,
a patient's latest readings. Each is one set-based query."""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select

from app.core import clock
from app.records import importer, waiting
from app.records.models import Indicator, Observation
from app.records.units import number
from tenants.db import db

ABNORMAL_FLAGS = ("H", "L", "A", "HH", "LL")


@dataclass
class NewAbnormal:
    patient_id: int
    count: int
    critical: int
    latest: datetime


def abnormal_since(patient_ids, since: date, limit: int = 20) -> list[NewAbnormal]:
    """Patients among ``patient_ids`` (a select of ids) with abnormal results stored since the clinic day
    ``since``: how many, how many critical, the latest; the most recent first."""
    critical = func.sum(case((Observation.flag.in_(("HH", "LL")), 1), else_=0))
    rows = _rows(select(Observation.patient_id, func.count(), critical, func.max(Observation.observed_at))
                   .where(Observation.patient_id.in_(patient_ids), Observation.flag.in_(ABNORMAL_FLAGS),
                          Observation.superseded_by.is_(None), *clock.within_days(Observation.created_at, since, None))
                   .group_by(Observation.patient_id)
                   .order_by(func.max(Observation.observed_at).desc()).limit(limit))
    return [NewAbnormal(pid, count, int(crit or 0), latest) for pid, count, crit, latest in rows]


def _rows(statement) -> list:
    return list(db.session.execute(statement).all())


@dataclass
class Waiting:
    unmatched: list
    unmatched_count: int
    waiting_results: int


def reports_waiting(limit: int = 10) -> Waiting:
    """Reports no one has filed yet (unmatched) and results waiting for a lab-code mapping or a unit."""
    rows = importer.unmatched(limit=limit + 1)
    return Waiting(rows[:limit], importer.unmatched_count() if len(rows) > limit else len(rows), waiting.count())


@dataclass
class Reading:
    code: str
    name: str
    value: str
    unit: str
    flag: str
    observed_at: datetime
    origin: str = ""  # "patient": measured by the patient at home (shown as patient-reported)


def latest_readings(patient_id: int, codes) -> list[Reading]:
    """The latest current value of each of these indicators (LOINC codes) for a patient, in one query."""
    ranked = (select(Observation.indicator_id, Observation.value, Observation.value_text, Observation.flag,
                     Observation.observed_at, Observation.origin,
                     func.row_number().over(partition_by=Observation.indicator_id,
                                            order_by=Observation.observed_at.desc()).label("n"))
              .join(Indicator, Indicator.id == Observation.indicator_id)
              .where(Observation.patient_id == patient_id, Observation.superseded_by.is_(None),
                     Indicator.code.in_(list(codes)))).subquery()
    rows = _rows(select(Indicator.code, Indicator.name_zh, Indicator.name_en, Indicator.unit, Indicator.decimals,
                        ranked.c.value,
                          ranked.c.value_text, ranked.c.flag, ranked.c.observed_at, ranked.c.origin)
                   .join(ranked, ranked.c.indicator_id == Indicator.id).where(ranked.c.n == 1)
                   .order_by(Indicator.code))
    return [Reading(code, name_zh or name_en, value_text if value is None else number(value, decimals), unit, flag, at,
                    origin)
            for code, name_zh, name_en, unit, decimals, value, value_text, flag, at, origin in rows]
