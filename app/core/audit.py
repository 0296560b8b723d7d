"""The append-only audit trail: who viewed, changed, exported or printed what.

``record`` adds the event to the caller's transaction, so an edit and its
audit row commit or roll back together. The application role may only
INSERT and SELECT this table. The trail's page is app/audit.
"""
from datetime import datetime, timedelta

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, BigInteger, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime, db
from tenants.models import utcnow
from tenants.scoping import TenantScoped


class AuditEvent(TenantScoped, Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_at", "tenant_id", "at"),
        Index("ix_audit_events_tenant_patient", "tenant_id", "patient_id"),
        Index("ix_audit_events_tenant_actor", "tenant_id", "actor_id"),
    )

    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Plain ids, not foreign keys: the trail outlives what it speaks of.
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")


ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_in_locked",  # no longer written (accounts are delayed, not locked); kept for older rows
    "sign_in_throttled",
    "sign_in_delay_cleared",
    "sign_out",
    "session_ended",
    "password_changed",
    "password_reset_requested",
    "password_reset",
    "two_factor_enabled",
    "two_factor_disabled",
    "recovery_code_used",
    "recovery_codes_renewed",
    "session_policy_changed",
    "patient_enrolled",
    "patient_edited",
    "history_edited",
    "patient_archived",
    "patient_restored",
    "identifiers_viewed",
    "phone_revealed",
    "card_printed",
    "file_downloaded",
    "staff_added",
    "staff_changed",
    "results_entered",
    "reports_imported",
    "result_retracted",
    "report_conflict",
    "lab_code_mapped",
    "alert_acknowledged",
    "alert_escalated",
    "alert_settings_changed",
    "api_token_created",
    "api_token_revoked",
    "table_mapping_saved",
    "table_mapping_deleted",
    "indicator_limits_saved",
    "package_saved",
    "booking_rules_changed",
    "order_changed",
    "portal_sign_in",
    "portal_linked",
    "portal_unlinked",
    "identity_verified",
    "cards_merged",
    "followup_plan_saved",
    "followup_recorded",
    "followup_enrolled",
    "recording_uploaded",
    "recording_played",
    "clinic_profile_changed",
    "record_opened",
    "audit_exported",
    "tag_rule_saved",
    "tag_rule_deleted",
    "portal_results_viewed",
    "portal_booked",
    "dashboard_exported",
    "list_exported",
    "list_printed",
    "questionnaire_published",
    "questionnaire_sent",
    "questionnaire_cancelled",
    "questionnaire_submitted",
    "questionnaire_history_confirmed",
    "intake_forms_changed",
    "kiosk_pin_changed",
    "kiosk_started",
    "kiosk_ended",
    "questionnaire_exported",
    "questionnaire_survey_settings_saved",
    "questionnaire_recovery_closed",
    "questionnaire_imported",
    "care_plan_started",
    "care_plan_closed",
    "care_plan_home_reading",
    "advice_composed",
    "advice_edited",
    "advice_released",
    "advice_item_saved",
    "portal_advice_viewed",
    "health_report_printed",
    "health_report_released",
    "portal_report_downloaded",
    "summary_drafted",
    "summary_signed",
    "summary_amended",
    "report_batch_started",
    "report_batch_resumed",
    "report_batch_printed",
    "portal_report_viewed",
    "results_released",
    "release_settings_changed",
    "report_style_saved",
)

PORTAL_ACTOR = "portal"  # actor_label of what the patient did in the portal
API_ACTOR = "api:"       # actor_label prefix of what a lab system did with an API token ("api:<token name>")

# a person at the clinic opening a patient's record is noted once in this long, not on every click
RECORD_OPENED_EVERY = timedelta(minutes=15)


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, ""


def record(action: str, *, patient_id: int | None = None, actor=None, actor_id: int | None = None,
           actor_label: str = "", **detail) -> AuditEvent:
    """Add an event to the caller's transaction. The actor is the signed-in
    staff member unless given: a staff ``actor``/``actor_id``, or only an
    ``actor_label`` for someone who is not staff (a lab system's API token,
    the patient in the portal)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is not None:
        actor_id, actor_label = actor.id, actor.email
    elif actor_id is None and not actor_label:
        actor_id, actor_label = _actor()
    ip = request.remote_addr or "" if has_request_context() else ""
    event = AuditEvent(
        action=action,
        patient_id=patient_id,
        actor_id=actor_id,
        actor_label=actor_label,
        detail=detail,
        ip=ip,
    )
    db.session.add(event)
    return event


def record_opened(patient_id: int) -> None:
    """The signed-in staff member opened the patient's record (at most once
    per RECORD_OPENED_EVERY each): what the patient sees in "who viewed my record"."""
    actor_id, _label = _actor()
    if actor_id is None:
        return
    since = utcnow() - RECORD_OPENED_EVERY
    recent = db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "record_opened", AuditEvent.actor_id == actor_id,
        AuditEvent.patient_id == patient_id, AuditEvent.at >= since).limit(1))
    if recent is None:
        record("record_opened", patient_id=patient_id)
