"""The latest current value of some indicators, for one patient or many at
once (risk models read their inputs this way): one query, the newest
current observation with a number per patient and code."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.records.models import Indicator, Observation
from tenants.db import db


@dataclass(frozen=True)
class Latest:
    observation_id: int
    value: float  # in the catalogue unit
    observed_at: datetime


def latest_values(codes, patient_ids=None) -> dict[int, dict[str, Latest]]:
    """{patient_id: {code: Latest}} for these indicator codes; ``patient_ids``
    None reads the whole clinic."""
    codes = list(dict.fromkeys(codes))
    if not codes or (patient_ids is not None and not patient_ids):
        return {}
    newest = func.row_number().over(
        partition_by=(Observation.patient_id, Observation.indicator_id),
        order_by=(Observation.observed_at.desc(), Observation.id.desc())).label("newest")
    query = (select(Observation.patient_id, Indicator.code, Observation.id, Observation.value,
                    Observation.observed_at, newest)
             .join(Indicator, (Indicator.id == Observation.indicator_id)
                   & (Indicator.tenant_id == Observation.tenant_id))
             .where(Indicator.code.in_(codes), Observation.superseded_by.is_(None), Observation.value.is_not(None)))
    if patient_ids is not None:
        query = query.where(Observation.patient_id.in_(list(set(patient_ids))))
    ranked = query.subquery()
    found: dict[int, dict[str, Latest]] = {}
    for patient_id, code, observation_id, value, observed_at in db.session.execute(
            select(ranked.c.patient_id, ranked.c.code, ranked.c.id, ranked.c.value, ranked.c.observed_at)
            .where(ranked.c.newest == 1)):
        found.setdefault(patient_id, {})[code] = Latest(observation_id, value, observed_at)
    return found
