"""Abnormal-result alerts: a critical value, or a value that has just become
abnormal, raises an alert for the patient's responsible doctor."""
from sqlalchemy import func, or_, select

from app.records import services
from app.records.models import Alert, Indicator, Observation
from tenants.db import db
from tenants.models import utcnow

CRITICAL = ("HH", "LL")
ABNORMAL = ("H", "L", "A")


def _kind(observation: Observation) -> str | None:
    if observation.flag in CRITICAL:
        return "critical"
    if observation.flag in ABNORMAL:
        previous = services.previous_value(observation.patient_id, observation.indicator_id,
                                           observation.observed_at)
        if previous is None or previous.flag in ("", "N"):
            return "abnormal"
    return None


def raise_for(patient, observations: list[Observation]) -> list[Alert]:
    """Create alerts for new observations (the caller commits); the doctor is
    told through the notification outbox after commit."""
    alerts = []
    for observation in observations:
        kind = _kind(observation)
        if kind is None or observation.superseded_by:
            continue
        indicator = db.session.scalar(select(Indicator).where(Indicator.id == observation.indicator_id))
        value = f"{observation.value_text} {observation.reported_unit}".strip()
        alert = Alert(patient_id=patient.id, observation_id=observation.id, kind=kind,
                      summary=f"{indicator.name_zh} {value} ({observation.flag})"[:200],
                      doctor_id=patient.responsible_doctor_id)
        db.session.add(alert)
        db.session.flush()
        _notify_doctor(patient, alert, indicator, value, observation.flag)
        alerts.append(alert)
    return alerts


def _notify_doctor(patient, alert: Alert, indicator: Indicator, value: str, flag: str) -> None:
    if not alert.doctor_id:
        return  # no responsible doctor: the alert waits in the list for every doctor
    from app.auth import services as staff
    from app.notifications import services as notifications
    from tenants.models import Tenant

    doctor = staff.get_staff(alert.doctor_id)
    if doctor is None or not doctor.active:
        return
    clinic = db.session.get(Tenant, patient.tenant_id)
    notifications.notify(
        "abnormal_result_alert", notifications.staff_recipient(doctor),
        {"patient_name": patient.name, "card_no": patient.card_no, "indicator": indicator.name_zh, "value": value,
         "flag": flag, "clinic": clinic.name},
        idempotency_key=f"alert:{alert.id}", channels=("inapp",))


def _visible_to(staff_id: int):
    return or_(Alert.doctor_id == staff_id, Alert.doctor_id.is_(None))


def open_alerts(staff_id: int, *, everyone: bool = False, limit: int = 100) -> list[Alert]:
    query = select(Alert).where(Alert.status == "open").order_by(Alert.id.desc()).limit(limit)
    return list(db.session.scalars(query if everyone else query.where(_visible_to(staff_id))))


def open_count(staff_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Alert).where(
        Alert.status == "open", _visible_to(staff_id)))


def get(alert_id: int) -> Alert | None:
    return db.session.scalar(select(Alert).where(Alert.id == alert_id))


def acknowledge(alert: Alert, note: str, actor_id: int) -> None:
    if alert.status != "open":
        return
    alert.status, alert.note = "acknowledged", note.strip()
    alert.acknowledged_by, alert.acknowledged_at = actor_id, utcnow()
