"""Storing values of many patients at once (a clinic-wide risk run stores
its scores this way), with the outcome ``store_many`` gives each patient.

Two queries find the patients for whom something might not simply be new:
a value of theirs stored already (a duplicate, or an earlier value that
becomes current again), a current value of the same source (no report) of
one of the indicators at one of the times (it would be superseded), or two
values of one indicator and time in the batch. Those patients go through
``store_many`` one by one; the others' values are new rows, stored with one
INSERT, and one results-stored names them all. The caller commits.
"""
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from app.core import events
from app.records.models import Observation
from app.records.parsed import CANCELLED
from app.records.results import Value, _fingerprint, columns, store_many
from app.records.signals import results_stored
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.ids import new_id
from tenants.models import utcnow


def store_for_patients(batches: list[tuple[Any, list[Value]]], *, origin: str) -> int:
    """``store_many(patient, values, origin=origin)`` for each (patient, values), without a report;
    returns how many values were offered. Retractions are not taken here."""
    batches = [(patient, values) for patient, values in batches if values]
    if not batches:
        return 0
    fingerprints: dict[int, list[str]] = {}
    for patient, values in batches:
        if any(value.status == CANCELLED for value in values):
            raise ValueError("store_for_patients stores values, not retractions")
        fingerprints[patient.id] = [_fingerprint(patient.id, value) for value in values]
    slow = _might_not_be_new(batches, fingerprints)
    rows, codes, fast_ids = [], set(), []
    tenant_id, now = require_tenant_id(), utcnow()
    for patient, values in batches:
        if patient.id in slow:
            store_many(patient, values, origin=origin)
            continue
        fast_ids.append(patient.id)
        for value, fingerprint in zip(values, fingerprints[patient.id]):
            rows.append({**columns(patient, value, fingerprint, None, origin, None), "tenant_id": tenant_id,
                         "id": new_id(), "superseded_by": None, "created_at": now})
            codes.add(value.indicator.code)
    if rows:  # RETURNING: sent as statements of many rows each ("insertmanyvalues"), not one per row
        db.session.execute(insert(Observation.__table__).returning(Observation.__table__.c.id), rows)
        events.send(results_stored, patient_ids=fast_ids, codes=sorted(codes))
    return sum(len(values) for _patient, values in batches)


def _might_not_be_new(batches, fingerprints: dict[int, list[str]]) -> set[int]:
    ids = list(fingerprints)
    slow = set(db.session.scalars(select(Observation.patient_id).distinct().where(
        Observation.fingerprint.in_([f for found in fingerprints.values() for f in found]))))
    indicator_ids: set[int] = set()
    times: set[datetime] = set()
    for patient, values in batches:
        keys = [(value.indicator.id, value.observed_at) for value in values]
        if len(set(keys)) < len(keys) or len(set(fingerprints[patient.id])) < len(keys):
            slow.add(patient.id)
        indicator_ids.update(key[0] for key in keys)
        times.update(key[1] for key in keys)
    slow.update(db.session.scalars(select(Observation.patient_id).distinct().where(
        Observation.patient_id.in_(ids), Observation.report_id.is_(None), Observation.superseded_by.is_(None),
        Observation.indicator_id.in_(list(indicator_ids)), Observation.observed_at.in_(list(times)))))
    return slow

