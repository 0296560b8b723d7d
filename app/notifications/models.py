"""The outbox and what governs it: templates, preferences, clinic settings."""
from datetime import datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned, TenantScoped, tenant_fk

CHANNELS = ("email", "sms", "inapp")
CATEGORIES = ("security", "care", "marketing")
STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class Notification(TenantScoped, Model):
    """One message to one recipient on one channel: the outbox row.

    ``stage`` records how far a send got before a worker stopped, so recovery
    knows whether resending is safe ("connected": nothing delivered yet;
    "committing": the provider may have the message)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_notifications_tenant_status_due", "tenant_id", "status", "scheduled_at"),
        Index("ix_notifications_tenant_recipient", "tenant_id", "recipient_type", "recipient_id", "channel"),
        Index("ix_notifications_tenant_thread", "tenant_id", "thread_key", postgresql_where="thread_key <> ''"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200))
    recipient_type: Mapped[str] = mapped_column(String(10))  # patient | staff
    recipient_id: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(10))
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_masked: Mapped[str] = mapped_column(String(120), default="")
    template_key: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(12))
    # sent at once, in quiet hours too and beyond the daily cap: a sign-in code, an
    # urgent alert, or a notice of what the patient has just done themselves
    at_once: Mapped[bool] = mapped_column(Boolean, default=False)
    thread_key: Mapped[str] = mapped_column(String(120), default="")  # a newer message of a thread supersedes
    subject: Mapped[str] = mapped_column(String(200), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    provider_params: Mapped[dict] = mapped_column(JSON, default=dict)
    # A message carrying a secret (a sign-in code) keeps subject, body and
    # parameters above redacted; the real ones are sealed here with the data
    # key until the send, and wiped after it (sent, failed or cancelled).
    # ``secret_until`` (set on such rows for good) is when the secret expires:
    # past it, or with the secret gone, the row is never sent.
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    stage: Mapped[str] = mapped_column(String(12), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    provider_id: Mapped[str] = mapped_column(String(120), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)


class NotificationTemplate(TenantScoped, Model):
    """A clinic's own wording of a message; absent rows fall back to the pack."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "key", "locale", "channel"),)

    key: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)


class NotificationPreference(TenantOwned, Model):
    """A patient's opt-in or opt-out for one channel and category."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    category: Mapped[str] = mapped_column(String(12), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20), default="staff")  # staff | unsubscribe | portal
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotificationSettings(TenantOwned, Model):
    """Per-clinic sending rules. One row per tenant (created on first change)."""

    __tablename__ = "notification_settings"

    quiet_start: Mapped[time] = mapped_column(Time, default=time(21, 0))
    quiet_end: Mapped[time] = mapped_column(Time, default=time(8, 0))
    daily_cap: Mapped[int] = mapped_column(Integer, default=5)
