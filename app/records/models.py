"""Indicator catalogue, exam reports, observations, alerts, API tokens."""
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.crypto import EncryptedJSON, EncryptedText
from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned, TenantScoped, tenant_fk

GROUPS = ("vitals", "body", "glucose", "lipids", "liver", "kidney", "electrolytes", "blood", "thyroid", "tumour",
          "inflammation", "urine", "imaging", "questionnaire", "other")
KINDS = ("numeric", "coded")  # coded: a grade or a conclusion kept as reported text; no units, ranges or limits
FLAGS = ("", "N", "L", "H", "LL", "HH", "A")



class Indicator(TenantScoped, Model):
    """A catalogue entry. ``code`` is the LOINC code for pack entries, the
    clinic's own code for local ones; ``aliases`` maps other codes (the
    mg/dL LOINC code of the same analyte) to the unit they imply."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(30), default="")
    group: Mapped[str] = mapped_column(String(20), default="other")
    decimals: Mapped[int] = mapped_column(Integer, default=2)
    alt_units: Mapped[dict] = mapped_column(JSON, default=dict)   # unit -> factor into `unit`
    aliases: Mapped[dict] = mapped_column(JSON, default=dict)     # other code -> unit it is reported in
    # ranges: [{sex, age_min, age_max, low, high, high_inclusive, source}]
    ranges: Mapped[list] = mapped_column(JSON, default=list)
    # critical: {low, high, low_inclusive, high_inclusive, source}: beyond it a result is critical (LL/HH)
    critical: Mapped[dict] = mapped_column(JSON, default=dict)
    # plausible: {low, high}: a value outside cannot be a measurement of this indicator and is refused
    plausible: Mapped[dict] = mapped_column(JSON, default=dict)
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(10), default="numeric")
    # the fingerprint of the pack entry this row was last set from ("" for a local entry, or one installed
    # before fingerprints were kept); a pack update rewrites a row only while the clinic has not edited it
    pack_fingerprint: Mapped[str] = mapped_column(String(64), default="")


class IndicatorVersion(TenantScoped, Model):
    """One save of an indicator's limits by a clinic admin: the ranges, critical and plausible limits as
    saved, with the source the admin named. The newest version is what the indicator holds."""

    __tablename__ = "indicator_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "indicator_id", "version"),
        tenant_fk("indicator_id", "indicators", ondelete="CASCADE"),
    )

    indicator_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    ranges: Mapped[list] = mapped_column(JSON, default=list)
    critical: Mapped[dict] = mapped_column(JSON, default=dict)
    plausible: Mapped[dict] = mapped_column(JSON, default=dict)
    source_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabCode(TenantScoped, Model):
    """A lab's own code or test name, mapped to a catalogue entry."""

    __tablename__ = "lab_codes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sender", "local_code"),
        tenant_fk("indicator_id", "indicators", ondelete="CASCADE"),
    )

    sender: Mapped[str] = mapped_column(String(80), default="")   # "" = any lab
    local_code: Mapped[str] = mapped_column(String(80))            # code, or the test name when no code
    indicator_id: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(30), default="")     # the unit this lab uses, if it omits it


class ExamReport(TenantScoped, Model):
    """One exam's results as they arrived (or as entered). Unmatched reports
    wait with ``patient_id`` empty and their parsed content in ``pending``."""

    __tablename__ = "exam_reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "source_key"),
        tenant_fk("patient_id", "patients", ondelete="SET NULL"),
        Index("ix_exam_reports_tenant_patient", "tenant_id", "patient_id", "observed_at"),
        Index("ix_exam_reports_tenant_status", "tenant_id", "status"),
    )

    patient_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(10))        # manual | hl7 | fhir | table
    source_key: Mapped[str] = mapped_column(String(300))
    sender: Mapped[str] = mapped_column(String(120), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="imported")  # imported | unmatched | discarded
    pending: Mapped[dict | None] = mapped_column(EncryptedJSON)  # the parsed report, while unmatched (sealed)
    patient_hint: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")  # who the sender said (sealed)
    imported_by: Mapped[int | None] = mapped_column(BigInteger)       # the staff member, for an upload
    api_token_id: Mapped[int | None] = mapped_column(BigInteger)      # the lab system's token, for the API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Observation(TenantScoped, Model):
    """One measured value. ``value`` is normalised to the catalogue unit;
    the reported value and unit are kept as they came. A corrected result
    supersedes the earlier one (``superseded_by``), which stays as history."""

    __tablename__ = "observations"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        tenant_fk("indicator_id", "indicators"),
        tenant_fk("report_id", "exam_reports", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "fingerprint"),
        Index("ix_observations_tenant_patient_indicator", "tenant_id", "patient_id", "indicator_id",
              "observed_at"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    indicator_id: Mapped[int] = mapped_column(BigInteger)
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)             # in the catalogue unit
    value_text: Mapped[str] = mapped_column(String(80), default="")  # as reported
    reported_unit: Mapped[str] = mapped_column(String(30), default="")
    ref_low: Mapped[float | None] = mapped_column(Float)
    ref_high: Mapped[float | None] = mapped_column(Float)
    ref_text: Mapped[str] = mapped_column(String(80), default="")
    flag: Mapped[str] = mapped_column(String(2), default="")
    flag_source: Mapped[str] = mapped_column(String(10), default="")  # lab | range | catalogue | critical
    status: Mapped[str] = mapped_column(String(12), default="final")
    origin: Mapped[str] = mapped_column(String(10), default="manual")  # manual | import | computed | patient
    superseded_by: Mapped[int | None] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(64))
    entered_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(TenantScoped, Model):
    """Abnormal results of one patient for the responsible doctor: one alert
    per report (per patient and clinic day for values typed in), listing its
    items. Its tier (``kind``) is critical when any item is critical; a
    critical alert must be acknowledged by ``due_at`` or it is escalated."""

    __tablename__ = "alerts"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        tenant_fk("report_id", "exam_reports", ondelete="CASCADE"),
        # one open alert per group: a later result of the same report joins it
        Index("uq_alerts_tenant_patient_group_open", "tenant_id", "patient_id", "group_key", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_alerts_tenant_status", "tenant_id", "status"),
        Index("ix_alerts_tenant_created", "tenant_id", "created_at"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    group_key: Mapped[str] = mapped_column(String(60))     # report:<id> | day:<patient id>:<clinic date>
    kind: Mapped[str] = mapped_column(String(12))          # the tier: critical | abnormal
    summary: Mapped[str] = mapped_column(String(200))
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    doctor_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | acknowledged
    note: Mapped[str] = mapped_column(Text, default="")              # what was done
    informed: Mapped[str] = mapped_column(String(12), default="")    # who was told: patient | family | doctor | other
    informed_name: Mapped[str] = mapped_column(String(60), default="")
    acknowledged_by: Mapped[int | None] = mapped_column(BigInteger)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    critical_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # when it became critical
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)        # a critical alert's deadline
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_to: Mapped[list] = mapped_column(JSON, default=list)       # staff ids told
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertItem(TenantScoped, Model):
    """One abnormal result of an alert. A result alerts once, ever."""

    __tablename__ = "alert_items"
    __table_args__ = (
        tenant_fk("alert_id", "alerts", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "observation_id"),
        Index("ix_alert_items_tenant_alert", "tenant_id", "alert_id"),
    )

    alert_id: Mapped[int] = mapped_column(BigInteger)
    observation_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))          # critical | abnormal
    flag: Mapped[str] = mapped_column(String(2), default="")
    summary: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertSettings(TenantOwned, Model):
    """The clinic's critical-value settings (no row: the defaults)."""

    __tablename__ = "alert_settings"

    ack_minutes: Mapped[int] = mapped_column(Integer, default=30)  # a critical alert is acknowledged within
    backup_doctor_id: Mapped[int | None] = mapped_column(BigInteger)  # told when no doctor's own backup is set
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertContact(TenantScoped, Model):
    """A staff member's critical-alert contact: their backup doctor and the
    mobile number escalations are texted to (sealed)."""

    __tablename__ = "alert_contacts"
    __table_args__ = (
        tenant_fk("staff_id", "staff_users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "staff_id"),
    )

    staff_id: Mapped[int] = mapped_column(BigInteger)
    backup_id: Mapped[int | None] = mapped_column(BigInteger)
    mobile: Mapped[str] = mapped_column(EncryptedText, nullable=True, default="")


class ApiToken(TenantScoped, Model):
    """A machine-to-machine credential; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("tenant_id", "token_hash"),)

    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TableMapping(TenantScoped, Model):
    """A spreadsheet source's column mapping, saved for next time."""

    __tablename__ = "table_mappings"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(80))
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WaitingResult(TenantScoped, Model):
    """A result of a filed report that could not be stored yet: its code is not mapped (``unmapped``),
    it came without a unit (``no_unit``), or in a unit the catalogue cannot convert (``unit``).
    Mapping the code on the lab codes page stores it; the rest of its report was stored already."""

    __tablename__ = "waiting_results"
    __table_args__ = (
        UniqueConstraint("tenant_id", "report_id", "key"),
        tenant_fk("report_id", "exam_reports", ondelete="CASCADE"),
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        Index("ix_waiting_results_tenant_sender_code", "tenant_id", "sender", "code"),
    )

    report_id: Mapped[int] = mapped_column(BigInteger)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    sender: Mapped[str] = mapped_column(String(120), default="")
    code: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(30), default="")
    reason: Mapped[str] = mapped_column(String(12))          # unmapped | no_unit | unit
    result: Mapped[dict] = mapped_column(JSON)               # the parsed result, as sent
    key: Mapped[str] = mapped_column(String(64))             # the result's digest: sent again, it waits once
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResultRelease(TenantScoped, Model):
    """An exam day's results shown in the patient's portal: released by a doctor (on the results page or
    with the printed report) or, where the clinic chose it, automatically when every result was normal."""

    __tablename__ = "result_releases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "patient_id", "exam_date"),
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger)
    exam_date: Mapped[date] = mapped_column(Date)                 # the clinic day of the results
    mode: Mapped[str] = mapped_column(String(10))                 # doctor | report | auto
    released_by: Mapped[int | None] = mapped_column(BigInteger)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReleaseSettings(TenantOwned, Model):
    """How the clinic's results reach the portal (one row per clinic, made when first saved)."""

    __tablename__ = "result_release_settings"

    auto_release_hours: Mapped[int | None] = mapped_column(Integer)  # None: a doctor releases every result
    # results stored before this moment were shown at once, as they were before releases existed
    shown_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
