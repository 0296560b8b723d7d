"""Stored assessments: one row per model and patient each time the result
changed, the newest marked current; older rows are the risk's history."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantScoped, tenant_fk


class RiskAssessment(TenantScoped, Model):
    __tablename__ = "risk_assessments"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_risk_assessments_tenant_patient_model", "tenant_id", "patient_id", "model", "computed_at"),
        # one current assessment per patient and model
        Index("uq_risk_assessments_tenant_patient_model_current", "tenant_id", "patient_id", "model", unique=True,
              postgresql_where=text("is_current"), sqlite_where=text("is_current")),
        Index("ix_risk_assessments_tenant_model_band", "tenant_id", "model", "band"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    model: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))             # ok | missing | outside_ages
    value: Mapped[float | None] = mapped_column(Float)          # a number, when the result is one
    value_text: Mapped[str] = mapped_column(String(40), default="")  # as shown (135/85 for a blood pressure)
    unit: Mapped[str] = mapped_column(String(20), default="")
    band: Mapped[str | None] = mapped_column(String(30))
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)    # input -> {value, kind, source_id, date}
    missing: Mapped[list] = mapped_column(JSON, default=list)   # [{input, why: never | too_old, date, max_age_days}]
    contributions: Mapped[dict] = mapped_column(JSON, default=dict)
    what_if: Mapped[list] = mapped_column(JSON, default=list)   # [{input, target, value, band}]
    fingerprint: Mapped[str] = mapped_column(String(64), default="")  # of what a recompute compares
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())
