"""Patient cards (开卡), health history and the search terms behind live search."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.crypto import EncryptedText
from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned, TenantScoped, tenant_fk

SEXES = ("M", "F")
SOURCE_CHANNELS = ("walk_in", "referral", "online", "corporate", "community", "other")
HISTORY_KINDS = ("illness", "surgery", "allergy", "family", "medication")
SMOKING = ("never", "former", "current")
ALCOHOL = ("none", "occasional", "regular")
EXERCISE = ("none", "occasional", "regular")

# Byte-order collation on PostgreSQL, so a prefix is a contiguous index range.
TERM_TYPE = String(64).with_variant(String(64, collation="C"), "postgresql")


class Patient(TenantScoped, Model):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("tenant_id", "card_no"),
        UniqueConstraint("tenant_id", "id_number_index"),
        Index("ix_patients_tenant_mobile_index", "tenant_id", "mobile_index"),
    )

    card_no: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    name_pinyin: Mapped[str] = mapped_column(String(200), default="")
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    mobile_enc: Mapped[bytes] = mapped_column(LargeBinary)
    mobile_index: Mapped[str] = mapped_column(String(64))
    mobile_last4: Mapped[str] = mapped_column(String(4))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_index: Mapped[str | None] = mapped_column(String(64))
    # sealed at rest (app/core/crypto.py); mobile and ID number above also keep a blind index for lookup
    email: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")
    preferred_locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    address: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")
    emergency_name: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")
    emergency_phone: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")
    source_channel: Mapped[str] = mapped_column(String(20), default="walk_in")
    consent_version: Mapped[str] = mapped_column(String(20))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    smoking: Mapped[str] = mapped_column(String(10), default="")
    alcohol: Mapped[str] = mapped_column(String(12), default="")
    exercise: Mapped[str] = mapped_column(String(12), default="")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # opened by the patient in the portal: the front desk checks their identity at check-in
    self_registered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    merged_into_id: Mapped[int | None] = mapped_column(BigInteger)  # merged into that card (kept for its history)
    enrolled_by: Mapped[int | None] = mapped_column(BigInteger)
    responsible_doctor_id: Mapped[int | None] = mapped_column(BigInteger)
    health_manager_id: Mapped[int | None] = mapped_column(BigInteger)  # 健管师: follow-ups and alerts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def age(self) -> int:
        return clock.age(self.birth_date)


class HealthHistoryItem(TenantScoped, Model):
    """Past illness, surgery, allergy, family history or current medication."""

    __tablename__ = "health_history_items"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_health_history_items_tenant_patient", "tenant_id", "patient_id"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(String(200))
    since_year: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PatientSearchTerm(TenantOwned, Model):
    """One searchable key of a patient: a suffix of the name, of its pinyin or
    initials, the card number, the last four mobile digits. A prefix scan over
    (tenant_id, term) answers fragment, pinyin and initials search with a plain
    B-tree range, which works under row-level security."""

    __tablename__ = "patient_search_terms"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_patient_search_terms_tenant_patient", "tenant_id", "patient_id"),
    )

    term: Mapped[str] = mapped_column(TERM_TYPE, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class TenantCounter(TenantOwned, Model):
    """Per-clinic readable sequences (card numbers, later order numbers)."""

    __tablename__ = "tenant_counters"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
