"""Follow-up plans (templates), a patient's enrolment in a plan, the tasks it
creates, the records of each contact and the call recordings attached.

One enrolment per patient per plan while it is active: a partial unique
index (PostgreSQL and SQLite) makes a repeated trigger a no-op. A task
carries a ``version`` column (SQLAlchemy's version counter): two people
recording the same task at once cannot both win.
"""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantScoped, tenant_fk

TRIGGERS = ("tag_added", "enrolment", "report_imported", "booking_completed")
SCHEDULES = ("interval", "days")
CHANNELS = ("phone", "visit", "message", "form")  # form: a questionnaire the patient fills in
REMINDED_CHANNELS = ("phone", "visit")  # a patient can be told the day before
RESULTS = ("reached", "no_answer", "wrong_number", "refused")
FAILED_RESULTS = ("no_answer", "wrong_number")
TASK_STATUSES = ("pending", "done", "cancelled")



class FollowupPlan(TenantScoped, Model):
    """A plan template: what starts it, when its tasks fall due, how contact is made."""

    __tablename__ = "followup_plans"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),
                      Index("ix_followup_plans_tenant_trigger", "tenant_id", "trigger", "active"))

    name: Mapped[str] = mapped_column(String(80))
    trigger: Mapped[str] = mapped_column(String(20))
    trigger_tag: Mapped[str] = mapped_column(String(40), default="")  # a tag's name, for tag_added
    schedule: Mapped[str] = mapped_column(String(10), default="days")
    interval_days: Mapped[int | None] = mapped_column(Integer)
    duration_months: Mapped[int | None] = mapped_column(Integer)
    offsets: Mapped[list] = mapped_column(JSON, default=list)         # days after the trigger, for "days"
    channel: Mapped[str] = mapped_column(String(10), default="phone")
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)     # failed contacts before escalation
    remind_patient: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # the day before
    questionnaire_key: Mapped[str] = mapped_column(String(40), default="", server_default="")  # a questionnaire step
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pack_key: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlanEnrolment(TenantScoped, Model):
    """A patient following a plan: active until its tasks are done or it is cancelled."""

    __tablename__ = "followup_enrolments"
    __table_args__ = (
        tenant_fk("plan_id", "followup_plans", ondelete="CASCADE"),
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("uq_followup_enrolments_active", "tenant_id", "plan_id", "patient_id", unique=True,
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
        Index("ix_followup_enrolments_tenant_patient", "tenant_id", "patient_id"),
    )

    plan_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | completed | cancelled
    started_by: Mapped[str] = mapped_column(String(200), default="")    # what triggered it
    reason: Mapped[str] = mapped_column(String(200), default="")        # why it ended
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FollowupTask(TenantScoped, Model):
    __tablename__ = "followup_tasks"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        tenant_fk("enrolment_id", "followup_enrolments", ondelete="CASCADE"),
        Index("ix_followup_tasks_tenant_assignee", "tenant_id", "assignee_id", "status", "due_date"),
        Index("ix_followup_tasks_tenant_patient", "tenant_id", "patient_id", "due_date"),
        Index("ix_followup_tasks_tenant_status_due", "tenant_id", "status", "due_date"),
        Index("ix_followup_tasks_tenant_enrolment", "tenant_id", "enrolment_id"),
    )

    enrolment_id: Mapped[int | None] = mapped_column(BigInteger)
    plan_id: Mapped[int | None] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10), default="phone")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    escalated_to: Mapped[int | None] = mapped_column(BigInteger)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a questionnaire step's link went out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class FollowupRecord(TenantScoped, Model):
    """One contact attempt on a task: its result, notes, measures reported."""

    __tablename__ = "followup_records"
    __table_args__ = (tenant_fk("task_id", "followup_tasks", ondelete="CASCADE"),
                      tenant_fk("patient_id", "patients", ondelete="CASCADE"),
                      Index("ix_followup_records_tenant_task", "tenant_id", "task_id"))

    task_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(15))
    notes: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[dict] = mapped_column(JSON, default=dict)
    next_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallRecording(TenantScoped, Model):
    """A call recording (随访电话录音) under the clinic's storage prefix.
    ``play_key`` is what the browser gets: the original, or its conversion."""

    __tablename__ = "followup_recordings"
    __table_args__ = (tenant_fk("record_id", "followup_records", ondelete="CASCADE"),
                      tenant_fk("patient_id", "patients", ondelete="CASCADE"),
                      Index("ix_followup_recordings_tenant_record", "tenant_id", "record_id"))

    record_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    original_key: Mapped[str] = mapped_column(String(200))
    original_format: Mapped[str] = mapped_column(String(8))
    play_key: Mapped[str | None] = mapped_column(String(200))
    play_mime: Mapped[str] = mapped_column(String(40), default="")
    size: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    filename: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
