"""Questionnaires, their published versions, patients' responses and the
history updates an intake form proposes."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.crypto import EncryptedJSON, EncryptedText
from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned, TenantScoped, tenant_fk

KINDS = ("screening", "intake", "lifestyle", "survey")
RESPONSE_STATUSES = ("requested", "in_progress", "submitted", "cancelled")
CHANNELS = ("link", "portal", "kiosk", "staff", "api")


class Questionnaire(TenantScoped, Model):
    """A clinic's questionnaire: from the pack (``pack_key``) or its own.
    What patients answer is always a published version; ``draft`` holds the
    edited definition that publishing turns into the next version."""

    __tablename__ = "questionnaires"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120))
    pack_key: Mapped[str] = mapped_column(String(40), default="")
    current_version: Mapped[int] = mapped_column(Integer, default=0)   # 0: never published
    draft: Mapped[dict | None] = mapped_column(JSON)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QuestionnaireVersion(TenantScoped, Model):
    """One published definition; never changed once written."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "questionnaire_id", "version"),
        tenant_fk("questionnaire_id", "questionnaires", ondelete="CASCADE"),
    )

    questionnaire_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    published_by: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionnaireResponse(TenantScoped, Model):
    """One patient's answers to one version: requested, filled in (saved as
    they go), then submitted and scored. The answers are sealed; the scores
    (numbers and bands) stay readable for the results views."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (
        tenant_fk("questionnaire_id", "questionnaires", ondelete="CASCADE"),
        tenant_fk("version_id", "questionnaire_versions"),
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_questionnaire_responses_tenant_patient", "tenant_id", "patient_id", "submitted_at"),
        Index("ix_questionnaire_responses_tenant_questionnaire", "tenant_id", "questionnaire_id", "status"),
    )

    questionnaire_id: Mapped[int] = mapped_column(BigInteger)
    version_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    channel: Mapped[str] = mapped_column(String(8), default="staff")
    answers: Mapped[dict | None] = mapped_column(EncryptedJSON)
    scores: Mapped[list] = mapped_column(JSON, default=list)      # [{key, value, band}]
    flags: Mapped[list] = mapped_column(JSON, default=list)       # [flag key]
    link_nonce: Mapped[str] = mapped_column(String(32), default="")  # the sent link's; cleared on submission
    requested_by: Mapped[int | None] = mapped_column(BigInteger)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    context: Mapped[dict] = mapped_column(JSON, default=dict)     # {order_id, task_id}: what asked for it


class HistoryProposal(TenantScoped, Model):
    """One health-history update an intake form's answer proposes; staff
    accept or decline it, and who did is kept."""

    __tablename__ = "questionnaire_proposals"
    __table_args__ = (
        tenant_fk("response_id", "questionnaire_responses", ondelete="CASCADE"),
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_questionnaire_proposals_tenant_patient", "tenant_id", "patient_id", "status"),
    )

    response_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[dict] = mapped_column(EncryptedJSON)            # {"value": ...}: what the patient answered
    question: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | accepted | declined
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PackageIntakeForm(TenantScoped, Model):
    """An exam package that requires an intake form: booking it asks the patient to fill it."""

    __tablename__ = "package_intake_forms"
    __table_args__ = (
        UniqueConstraint("tenant_id", "package_id"),
        tenant_fk("package_id", "exam_packages", ondelete="CASCADE"),
        tenant_fk("questionnaire_id", "questionnaires", ondelete="CASCADE"),
    )

    package_id: Mapped[int] = mapped_column(BigInteger)
    questionnaire_id: Mapped[int] = mapped_column(BigInteger)


class QuestionnaireSettings(TenantOwned, Model):
    """One row per clinic (made on first change): the front-desk tablet's staff PIN (argon2 hash)."""

    __tablename__ = "questionnaire_settings"

    kiosk_pin_hash: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
# --- satisfaction surveys and service recovery (app/questionnaires/satisfaction.py) ------------------------------


class SurveySettings(TenantOwned, Model):
    """A clinic's automatic satisfaction surveys: one row per clinic, made on first save. Off until an
    admin turns them on."""

    __tablename__ = "questionnaire_survey_settings"

    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    questionnaire_key: Mapped[str] = mapped_column(String(40), default="satisfaction")
    after_exam: Mapped[bool] = mapped_column(Boolean, default=True)
    after_followup: Mapped[bool] = mapped_column(Boolean, default=False)
    delay_hours: Mapped[int] = mapped_column(Integer, default=24)
    every_days: Mapped[int] = mapped_column(Integer, default=90)     # at most one survey per patient in this many days
    low_item: Mapped[str] = mapped_column(String(40), default="")    # a score or question key, or "" for none
    low_below: Mapped[float | None] = mapped_column(Float)            # ... whose value below this opens a case
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SurveyGate(TenantOwned, Model):
    """When each patient was last sent an automatic survey. One row per patient, moved forward by one
    guarded upsert, so two completions at the same moment cannot both send one."""

    __tablename__ = "questionnaire_survey_gates"
    __table_args__ = (tenant_fk("patient_id", "patients", ondelete="CASCADE"),)

    patient_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


RECOVERY_STATUSES = ("open", "closed")


class RecoveryCase(TenantScoped, Model):
    """Service recovery (回访处理): a low satisfaction score, with the patient's comment and the visit it
    refers to, for an admin to follow up and close with a note."""

    __tablename__ = "questionnaire_recovery_cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "response_id"),
        tenant_fk("response_id", "questionnaire_responses", ondelete="CASCADE"),
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_questionnaire_recovery_cases_tenant_status", "tenant_id", "status", "created_at"),
    )

    response_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    recommend: Mapped[float | None] = mapped_column(Float)     # the 0-10 likelihood to recommend
    reason: Mapped[str] = mapped_column(String(40))            # "recommend", or the low item's key
    item_value: Mapped[float | None] = mapped_column(Float)    # the low item's value (reason != "recommend")
    comment: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")
    # the visit the survey asked about (plain ids: the case outlives a cancelled plan's tasks)
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    task_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8), default="open")
    resolution: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")
    closed_by: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
