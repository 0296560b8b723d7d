"""The advice library and patients' advice sheets.

An item (``AdviceItem``) is one piece of advice of the clinic's library; its
words, conditions and source live in versions (``AdviceItemVersion``): every
save adds one, and a sheet keeps the text of the version it was composed from.
A sheet (``AdviceSheet``) is a draft until released; a released sheet is
never changed (a new draft is composed for changes)."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantScoped, tenant_fk

CATEGORIES = ("diet", "exercise", "weight", "mental", "sleep", "smoking_alcohol")


class AdviceItem(TenantScoped, Model):
    __tablename__ = "advice_items"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(60))            # the pack's key, or one made for a clinic's own item
    category: Mapped[str] = mapped_column(String(20))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pack_key: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdviceItemVersion(TenantScoped, Model):
    __tablename__ = "advice_item_versions"
    __table_args__ = (
        tenant_fk("item_id", "advice_items", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "item_id", "version"),
    )

    item_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(20))
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)   # see advice_conditions.py
    source: Mapped[str] = mapped_column(Text, default="")
    saved_by: Mapped[int | None] = mapped_column(BigInteger)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdviceSheet(TenantScoped, Model):
    __tablename__ = "advice_sheets"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_advice_sheets_tenant_patient", "tenant_id", "patient_id", "created_at"),
        # one open draft per patient
        Index("uq_advice_sheets_tenant_patient_draft", "tenant_id", "patient_id", unique=True,
              postgresql_where=text("status = 'draft'"), sqlite_where=text("status = 'draft'")),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="draft")   # draft | released
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")   # the patient's language, the sheet's words
    entries: Mapped[list] = mapped_column(JSON, default=list)          # see advice_sheets.py
    numbers: Mapped[dict] = mapped_column(JSON, default=dict)          # the patient's numbers when composed
    composed_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by: Mapped[int | None] = mapped_column(BigInteger)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
