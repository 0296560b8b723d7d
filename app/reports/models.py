"""Printed health reports: one row per PDF a staff member printed for one
exam (a clinic day's results) of a patient. The file lives under the
clinic's storage prefix; the row says what it holds, who printed it and,
once a doctor released it, when the patient's portal began to show it."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned, TenantScoped, tenant_fk


class HealthReport(TenantScoped, Model):
    __tablename__ = "health_reports"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        tenant_fk("batch_id", "report_batches"),  # batches are kept
        Index("ix_health_reports_tenant_patient", "tenant_id", "patient_id", "exam_date"),
        # a batch prints each of its patients once, however often it is resumed
        Index("uq_health_reports_tenant_batch_patient", "tenant_id", "batch_id", "patient_id", unique=True,
              postgresql_where=text("batch_id IS NOT NULL"), sqlite_where=text("batch_id IS NOT NULL")),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    exam_date: Mapped[date] = mapped_column(Date)                 # the clinic day whose results it reports
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    storage_key: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    printed_by: Mapped[int | None] = mapped_column(BigInteger)
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by: Mapped[int | None] = mapped_column(BigInteger)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)   # printed as part of a batch
    template_key: Mapped[str] = mapped_column(String(40), default="general_checkup")


class ReportBatch(TenantScoped, Model):
    """Many patients' reports printed in one job: the patients and exam days are fixed when the batch is made;
    a resumed batch prints only those not printed yet, then joins them into one PDF or a ZIP."""

    __tablename__ = "report_batches"

    title: Mapped[str] = mapped_column(String(200))
    selection: Mapped[dict] = mapped_column(JSON, default=dict)     # {kind: day | tag | package, ...}
    items: Mapped[list] = mapped_column(JSON, default=list)         # [[patient id, exam day ISO], ...]
    output: Mapped[str] = mapped_column(String(10), default="merged")  # merged | zip
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    status: Mapped[str] = mapped_column(String(12), default="printing")  # printing | finished | failed
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    result_key: Mapped[str] = mapped_column(String(300), default="")
    result_name: Mapped[str] = mapped_column(String(200), default="")
    requested_by: Mapped[int | None] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(BigInteger)          # the job run printing it (the newest)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # each report printed moves it on
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StageSummary(TenantScoped, Model):
    """One version of a stage summary (健康阶段总结) of a patient's period. CareLoop drafts the text; a doctor
    edits and signs it, and a signed version is never changed: a change is the next version of the same
    chain (``chain_id``: the first version's id) with its reason."""

    __tablename__ = "stage_summaries"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "chain_id", "version"),
        Index("ix_stage_summaries_tenant_patient", "tenant_id", "patient_id", "period_end"),
        # one open draft per chain
        Index("uq_stage_summaries_tenant_chain_draft", "tenant_id", "chain_id", unique=True,
              postgresql_where=text("status = 'draft'"), sqlite_where=text("status = 'draft'")),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    period_kind: Mapped[str] = mapped_column(String(12))       # since_last | year | plan | custom
    plan_id: Mapped[int | None] = mapped_column(BigInteger)     # the care plan of a plan's period
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    draft_text: Mapped[str] = mapped_column(Text, default="")   # what CareLoop drafted, kept as it was
    text: Mapped[str] = mapped_column(Text, default="")         # the doctor's words
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | signed
    reason: Mapped[str] = mapped_column(String(300), default="")      # why this version (from version 2)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_by: Mapped[int | None] = mapped_column(BigInteger)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportStyle(TenantOwned, Model):
    """How the clinic's printed reports look (one row per clinic, made when first saved): its colour and, per
    report template, which sections it prints in which order."""

    __tablename__ = "report_styles"

    colour: Mapped[str] = mapped_column(String(7), default="#1b7a6e")
    sections: Mapped[dict] = mapped_column(JSON, default=dict)   # template key -> [section keys], in order
    sentences: Mapped[dict] = mapped_column(JSON, default=dict)  # locale -> {sentence key: the clinic's words}
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
