"""Printed health reports: one row per PDF a staff member printed for one
exam (a clinic day's results) of a patient. The file lives under the
clinic's storage prefix; the row says what it holds, who printed it and,
once a doctor released it, when the patient's portal began to show it."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantScoped, tenant_fk


class HealthReport(TenantScoped, Model):
    __tablename__ = "health_reports"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_health_reports_tenant_patient", "tenant_id", "patient_id", "exam_date"),
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
