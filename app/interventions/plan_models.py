"""A patient's care plan: an intervention plan (goals with targets and dates,
actions with a frequency) or a TCM conditioning plan (the advice for the
patient's constitutions, followed the same way), and the patient's ticks of
the actions done, one row per action and day.

Goals and actions are copied from the pack's template when the plan starts
and then belong to the plan (staff may change them at the start), so a
later change of the pack never rewrites a running plan."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantScoped, tenant_fk

KINDS = ("intervention", "conditioning")
STATUSES = ("active", "closed")
OUTCOMES = ("met", "partly", "not_met")
COMPARATORS = ("lt", "le", "gt", "ge")
ACTION_KINDS = ("diet", "exercise", "medication", "monitoring", "routine", "emotions", "seasonal")


class CarePlan(TenantScoped, Model):
    __tablename__ = "care_plans"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_care_plans_tenant_patient_status", "tenant_id", "patient_id", "status"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20), default="intervention")
    template_key: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="active")
    responsible_id: Mapped[int | None] = mapped_column(BigInteger)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    goals: Mapped[list] = mapped_column(JSON, default=list)     # [{key, code, comparator, target, unit, ...}]
    actions: Mapped[list] = mapped_column(JSON, default=list)   # [{key, kind, text: {zh, en}, per_week, ...}]
    basis: Mapped[dict] = mapped_column(JSON, default=dict)     # conditioning: {main: [...], tendency: [...]}
    scheduled: Mapped[dict] = mapped_column(JSON, default=dict)  # {tasks: [ids], notifications: [ids]}
    outcome: Mapped[str] = mapped_column(String(10), default="")
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    started_by: Mapped[int | None] = mapped_column(BigInteger)
    closed_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CareAdherence(TenantScoped, Model):
    """One action of a plan done (or not) on one day, as the patient ticked it."""

    __tablename__ = "care_plan_adherence"
    __table_args__ = (
        tenant_fk("plan_id", "care_plans", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "plan_id", "action_key", "day"),
    )

    plan_id: Mapped[int] = mapped_column(BigInteger)
    action_key: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(default=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
