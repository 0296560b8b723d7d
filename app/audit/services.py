"""Recording and reading audit events.

``record`` adds the event to the caller's transaction, so an edit and its
audit row commit or roll back together.
"""
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from app.audit.models import AuditEvent
from tenants.db import db

ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_in_locked",
    "sign_out",
    "patient_enrolled",
    "patient_edited",
    "history_edited",
    "patient_archived",
    "patient_restored",
    "identifiers_viewed",
    "card_printed",
    "file_downloaded",
    "staff_added",
    "staff_changed",
    "results_entered",
    "reports_imported",
    "alert_acknowledged",
    "api_token_created",
    "api_token_revoked",
    "table_mapping_saved",
    "table_mapping_deleted",
    "package_saved",
    "booking_rules_changed",
    "order_changed",
    "portal_sign_in",
    "followup_plan_saved",
    "followup_recorded",
    "recording_uploaded",
    "recording_played",
    "clinic_profile_changed",
)


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, ""


def record(action: str, *, patient_id: int | None = None, actor=None, actor_id: int | None = None,
           **detail) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is not None:
        actor_id, actor_label = actor.id, actor.email
    elif actor_id is not None:
        actor_label = ""
    else:
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


def search(
    *, actor_id: int | None = None, patient_id: int | None = None,
    before: datetime | None = None, limit: int = 50,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if patient_id:
        query = query.where(AuditEvent.patient_id == patient_id)
    if before:
        query = query.where(AuditEvent.at < before)
    return list(db.session.scalars(query))
