"""A self-registered card merged into an existing card: its messages move
(the outbox and the patient's inbox); its channel choices move where the
kept card has made none."""
from sqlalchemy import select, update

from app.core import events
from app.notifications.models import Notification, NotificationPreference
from app.patients import services as patients
from tenants.db import db


def _cards_merged(_tenant_id: int, *, source_id: int, target_id: int, **_) -> None:
    db.session.execute(update(Notification).where(
        Notification.recipient_type == "patient", Notification.recipient_id == source_id)
        .values(recipient_id=target_id).execution_options(synchronize_session="fetch"))
    chosen = set(db.session.execute(select(NotificationPreference.channel, NotificationPreference.category)
                                    .where(NotificationPreference.patient_id == target_id)).tuples())
    for pref in list(db.session.scalars(select(NotificationPreference).where(
            NotificationPreference.patient_id == source_id))):
        if (pref.channel, pref.category) in chosen:
            db.session.delete(pref)
    db.session.flush()
    db.session.execute(update(NotificationPreference).where(NotificationPreference.patient_id == source_id)
                       .values(patient_id=target_id).execution_options(synchronize_session="fetch"))


def listen() -> None:
    events.connect(patients.cards_merged, _cards_merged)


