"""Reading the audit trail (its page); events are written with app.core.audit.record."""
from datetime import datetime

from sqlalchemy import select

from app.core.audit import AuditEvent
from tenants.db import db


def search(
    *, actor_id: int | None = None, patient_id: int | None = None,
    before: datetime | None = None, limit: int = 50,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if patient_id:
        query = query.where(AuditEvent.patient_id == patient_id)
    if before:
        query = query.where(AuditEvent.at < before)
    return list(db.session.scalars(query))
