"""A patient's inbox for the portal: what the clinic sent them about their
care and bookings (email, text message or in-app), read-only, with a read
mark.

notify() cannot yet address an in-app message to a patient, so the inbox
is the patient's *sent* care messages on every channel. Only rows addressed
to this patient are ever read or marked.
"""
from sqlalchemy import func, select

from app.notifications import policy
from app.notifications.models import Notification
from tenants.db import db

CATEGORIES = ("care",)  # never sign-in codes (security) or marketing


def _query(patient_id: int):
    return select(Notification).where(
        Notification.recipient_type == "patient", Notification.recipient_id == patient_id,
        Notification.status == "sent", Notification.category.in_(CATEGORIES))


def inbox(patient_id: int | None, limit: int = 100) -> list[Notification]:
    if not patient_id:
        return []
    query = _query(patient_id).order_by(Notification.sent_at.desc().nulls_last(), Notification.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def unread_count(patient_id: int | None) -> int:
    if not patient_id:
        return 0
    return db.session.scalar(select(func.count()).select_from(
        _query(patient_id).where(Notification.read_at.is_(None)).subquery())) or 0


def mark_read(patient_id: int | None, notification_id: int) -> bool:
    """Mark one of this patient's messages read; False if it is not theirs."""
    if not patient_id:
        return False
    row = db.session.scalar(_query(patient_id).where(Notification.id == notification_id))
    if row is None:
        return False
    row.read_at = row.read_at or policy.now()
    return True


def mark_all_read(patient_id: int | None) -> int:
    rows = [r for r in inbox(patient_id, limit=500) if r.read_at is None]
    moment = policy.now()
    for row in rows:
        row.read_at = moment
    return len(rows)
