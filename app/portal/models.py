"""Patients' own accounts (not staff users) and their one-time sign-in codes."""
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantScoped, tenant_fk


class PortalAccount(TenantScoped, Model):
    """A mobile number that signed in with a code, linked to a patient card
    once one is matched or opened."""

    __tablename__ = "portal_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "mobile_index"),
        tenant_fk("patient_id", "patients", ondelete="SET NULL"),
    )

    mobile_index: Mapped[str] = mapped_column(String(64))
    mobile_enc: Mapped[bytes] = mapped_column(LargeBinary)
    patient_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SigninCode(TenantScoped, Model):
    """A 6-digit code: only its keyed hash is kept; single use, short-lived."""

    __tablename__ = "portal_signin_codes"
    __table_args__ = (Index("ix_portal_signin_codes_tenant_mobile", "tenant_id", "mobile_index", "created_at"),)

    mobile_index: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ip: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SigninEvent(TenantScoped, Model):
    """A code sent or a wrong code, counted for the per-number and
    per-address limits."""

    __tablename__ = "portal_signin_events"
    __table_args__ = (
        Index("ix_portal_signin_events_tenant_mobile", "tenant_id", "kind", "mobile_index", "at"),
        Index("ix_portal_signin_events_tenant_ip", "tenant_id", "kind", "ip", "at"),
    )

    kind: Mapped[str] = mapped_column(String(8))  # sent | failed
    mobile_index: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
