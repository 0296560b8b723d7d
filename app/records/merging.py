"""A self-registered card merged into an existing card: its reports, results and alerts move."""
from sqlalchemy import select, update

from app.core import events
from app.patients import services as patients
from app.records.models import Alert, ExamReport, Indicator, Observation
from app.records.signals import results_stored
from tenants.db import db


def _cards_merged(_tenant_id: int, *, source_id: int, target_id: int, **_) -> None:
    moved = list(db.session.scalars(select(Indicator.code).distinct().join(
        Observation, (Observation.indicator_id == Indicator.id) & (Observation.tenant_id == Indicator.tenant_id))
        .where(Observation.patient_id == source_id)))
    for model in (ExamReport, Observation, Alert):
        db.session.execute(update(model).where(model.patient_id == source_id).values(patient_id=target_id)
                           .execution_options(synchronize_session="fetch"))
    if moved:  # the kept card has more results now: what follows from them follows
        events.send(results_stored, patient_ids=[target_id], codes=sorted(moved))


def listen() -> None:
    events.connect(patients.cards_merged, _cards_merged)
