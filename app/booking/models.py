"""Exam packages, the clinic's capacity rules, capacity counters and orders.

Capacity is enforced by the database: one counter row per (day, slot), per
day and per (package, day), each with CHECK (booked <= capacity). A booking
raises ``booked`` with one conditional UPDATE per counter
(``WHERE booked < :capacity``); the row lock serialises concurrent bookings
of the same place, and the CHECK refuses anything that slips past.
"""
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned, TenantScoped, tenant_fk

CATEGORIES = ("general", "employment", "women", "senior", "chronic", "other")
SEX_RULES = ("", "M", "F")  # "" = everyone
UNLIMITED = 1_000_000       # the capacity of a counter whose rule sets no limit
# The statuses in which an order holds a place (orders.HOLDING); a patient has
# at most one such order of a package per day (uq_booking_orders_one_per_day).
HOLDING_SQL = "status IN ('confirmed', 'paid', 'pay_at_clinic', 'pending_payment')"


class ExamPackage(TenantScoped, Model):
    __tablename__ = "exam_packages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("price_fen >= 0", name="price_not_negative"),
        Index("ix_exam_packages_tenant_active", "tenant_id", "active", "category"),
    )

    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20), default="general")
    items: Mapped[list] = mapped_column(JSON, default=list)  # [{"name": "血常规", "codes": ["718-7", ...]}]
    price_fen: Mapped[int] = mapped_column(Integer, default=0)
    sex: Mapped[str] = mapped_column(String(1), default="")
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    fasting: Mapped[bool] = mapped_column(Boolean, default=False)
    no_alcohol: Mapped[bool] = mapped_column(Boolean, default=False)
    preparation: Mapped[str] = mapped_column(Text, default="")
    daily_limit: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BookingSettings(TenantOwned, Model):
    """One row per clinic (created on first change; defaults otherwise)."""

    __tablename__ = "booking_settings"

    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    cutoff_days: Mapped[int] = mapped_column(Integer, default=1)          # book until N days before ...
    cutoff_time: Mapped[time] = mapped_column(Time, default=time(18, 0))  # ... at this local time
    cancel_cutoff_days: Mapped[int] = mapped_column(Integer, default=1)
    cancel_cutoff_time: Mapped[time] = mapped_column(Time, default=time(18, 0))
    daily_capacity: Mapped[int | None] = mapped_column(Integer)           # None: only the slots limit


class SlotTemplate(TenantScoped, Model):
    """A weekly slot: weekday 0 = Monday."""

    __tablename__ = "slot_templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "weekday", "start"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    )

    weekday: Mapped[int] = mapped_column(Integer)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)


class SlotOverride(TenantScoped, Model):
    """One date's slot replacing the weekly slot with the same start (or an
    extra slot). Capacity 0 closes that slot on that date."""

    __tablename__ = "slot_overrides"
    __table_args__ = (
        UniqueConstraint("tenant_id", "day", "start"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)


class ClosedDay(TenantScoped, Model):
    """A holiday or other closed date."""

    __tablename__ = "closed_days"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(80), default="")


class SlotCounter(TenantOwned, Model):
    __tablename__ = "slot_counters"
    __table_args__ = (CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    start: Mapped[time] = mapped_column(Time, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class DayCounter(TenantOwned, Model):
    __tablename__ = "day_counters"
    __table_args__ = (CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class PackageDayCounter(TenantOwned, Model):
    __tablename__ = "package_day_counters"
    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),
        tenant_fk("package_id", "exam_packages", ondelete="CASCADE"),
    )

    package_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Order(TenantScoped, Model):
    __tablename__ = "booking_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_no"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        tenant_fk("package_id", "exam_packages"),
        tenant_fk("patient_id", "patients"),
        CheckConstraint("price_fen >= 0", name="price_not_negative"),
        Index("ix_booking_orders_tenant_day", "tenant_id", "day", "start"),
        Index("ix_booking_orders_tenant_patient", "tenant_id", "patient_id", "day"),
        Index("uq_booking_orders_one_per_day", "tenant_id", "patient_id", "package_id", "day", unique=True,
              postgresql_where=text(HOLDING_SQL), sqlite_where=text(HOLDING_SQL)),
    )

    order_no: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    package_id: Mapped[int] = mapped_column(BigInteger)
    package_name: Mapped[str] = mapped_column(String(80))        # as sold
    patient_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(BigInteger)    # the portal account that booked, if any
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    status: Mapped[str] = mapped_column(String(16))
    price_fen: Mapped[int] = mapped_column(Integer)
    payment_provider: Mapped[str] = mapped_column(String(20), default="pay_at_clinic")
    payment_ref: Mapped[str] = mapped_column(String(80), default="")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderEvent(TenantScoped, Model):
    """Every change of an order: status transitions, reschedules, payments."""

    __tablename__ = "booking_order_events"
    __table_args__ = (
        tenant_fk("order_id", "booking_orders", ondelete="CASCADE"),
        Index("ix_booking_order_events_tenant_order", "tenant_id", "order_id", "at"),
    )

    order_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))           # status | rescheduled | payment | created
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16), default="")
    actor_type: Mapped[str] = mapped_column(String(10))     # patient | staff | system
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
