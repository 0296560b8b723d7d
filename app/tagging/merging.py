"""A self-registered card merged into an existing card: tags put on by hand
move (unless the kept card has them); the rules' tags of the merged card go,
and the kept card is evaluated again with its new results."""
from sqlalchemy import delete, select, update

from app.core import events
from app.patients import services as patients
from app.tagging.models import ManualTag, PatientTag
from app.tagging.services import evaluate_patient_later
from tenants.db import db


def _cards_merged(_tenant_id: int, *, source_id: int, target_id: int, **_) -> None:
    kept = set(db.session.scalars(select(ManualTag.tag_id).where(ManualTag.patient_id == target_id)))
    db.session.execute(delete(ManualTag).where(ManualTag.patient_id == source_id, ManualTag.tag_id.in_(kept))
                       .execution_options(synchronize_session="fetch"))
    db.session.execute(update(ManualTag).where(ManualTag.patient_id == source_id).values(patient_id=target_id)
                       .execution_options(synchronize_session="fetch"))
    db.session.execute(delete(PatientTag).where(PatientTag.patient_id == source_id)
                       .execution_options(synchronize_session="fetch"))
    evaluate_patient_later(target_id)


def listen() -> None:
    events.connect(patients.cards_merged, _cards_merged)
