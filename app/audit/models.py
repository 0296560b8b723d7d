"""Audit events. The application role may only INSERT and SELECT this table."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import UTCDateTime, db
from tenants.models import utcnow
from tenants.scoping import TenantScoped


class AuditEvent(TenantScoped, db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_at", "tenant_id", "at"),
        Index("ix_audit_events_tenant_patient", "tenant_id", "patient_id"),
        Index("ix_audit_events_tenant_actor", "tenant_id", "actor_id"),
    )

    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Plain ids, not foreign keys: the trail outlives what it speaks of.
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")
