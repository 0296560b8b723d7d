"""The latest current value of some indicators, for one patient or many at
once (risk models read their inputs this way): one query, the newest
current observation with a number per patient and code.

On PostgreSQL the query is a DISTINCT ON over the index of current values by
indicator and patient (ix_observations_tagging, which holds the value): an
index-only scan per indicator, whatever the clinic's size. Patients whose
ids follow each other (a clinic-wide run's set) are read, ``ranged``, as the
range of their ids (one index range) and filtered here. Other databases rank
with a window function."""
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


def latest_values(codes, patient_ids=None, *, ranged: bool = False) -> dict[int, dict[str, Latest]]:
    """{patient_id: {code: Latest}} for these indicator codes; ``patient_ids``
    None reads the whole clinic."""
    codes = list(dict.fromkeys(codes))
    if not codes or (patient_ids is not None and not patient_ids):
        return {}
    wanted = None if patient_ids is None else set(patient_ids)
    indicators = {row.id: row.code for row in db.session.execute(
        select(Indicator.id, Indicator.code).where(Indicator.code.in_(codes)))}
    if not indicators:
        return {}
    current = [Observation.indicator_id.in_(list(indicators)), Observation.superseded_by.is_(None),
               Observation.value.is_not(None)]
    if wanted is not None:
        current.append(Observation.patient_id.between(min(wanted), max(wanted)) if ranged
                       else Observation.patient_id.in_(list(wanted)))
    columns = (Observation.patient_id, Observation.indicator_id, Observation.id, Observation.value,
               Observation.observed_at)
    order = (Observation.indicator_id, Observation.patient_id, Observation.observed_at.desc(), Observation.id.desc())
    if db.session.get_bind().dialect.name == "postgresql":
        query = select(*columns).where(*current).distinct(Observation.indicator_id, Observation.patient_id) \
            .order_by(*order)
    else:
        newest = func.row_number().over(partition_by=(Observation.patient_id, Observation.indicator_id),
                                        order_by=order[2:]).label("newest")
        ranked = select(*columns, newest).where(*current).subquery()
        query = select(ranked.c.patient_id, ranked.c.indicator_id, ranked.c.id, ranked.c.value,
                       ranked.c.observed_at).where(ranked.c.newest == 1)
    found: dict[int, dict[str, Latest]] = {}
    for patient_id, indicator_id, observation_id, value, observed_at in db.session.execute(query):
        if wanted is None or patient_id in wanted:
            found.setdefault(patient_id, {})[indicators[indicator_id]] = Latest(observation_id, value, observed_at)
    return found
