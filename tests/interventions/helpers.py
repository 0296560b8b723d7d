"""A clinic with a health manager and a patient with a blood pressure on file, and the start form's posts."""
from datetime import datetime, timedelta, timezone

from app.patients import services as patients
from app.records import services as records
from tenants.context import tenant_context
from tenants.db import db

MOBILE = "13911112222"


def store(app, tenant, patient_id, code, value, unit, *, days_ago=10, origin="manual"):
    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(patient_id)
        indicator = records.indicator_by_code(code)
        when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=days_ago)
        records.store(patient, records.Value(indicator, str(value), unit, when), origin=origin)
        db.session.commit()


def start_form(manager_id, *, today, title="高血压健康干预", systolic="130", due_days=90, **extra):
    form = {"title": title, "responsible": str(manager_id),
            "goal-systolic-on": "1", "goal-systolic-target": systolic,
            "goal-systolic-due": (today + timedelta(days=due_days)).isoformat(),
            "goal-activity-on": "1", "goal-activity-target": "150",
            "goal-activity-due": (today + timedelta(days=due_days)).isoformat()}
    for key, per_week in (("salt", "7"), ("walk", "5"), ("medicine", "7"), ("home_bp", "2")):
        form[f"action-{key}-on"] = "1"
        form[f"action-{key}-per_week"] = per_week
    form.update(extra)
    return form
