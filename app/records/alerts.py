"""Abnormal-result alerts: a critical value, or a value that has just become
abnormal, raises an alert for the patient's responsible doctor."""
from sqlalchemy import func, or_, select

from app.auth import services as staff
from app.notifications import services as notifications
from app.records import results
from app.records.models import Alert, Indicator, Observation
from tenants.db import db
from tenants.models import Tenant, utcnow

CRITICAL = ("HH", "LL")
ABNORMAL = ("H", "L", "A")


def _kind(observation: Observation, previous_flags: dict[int, str | None]) -> str | None:
    if observation.flag in CRITICAL:
        return "critical"
    if observation.flag in ABNORMAL and previous_flags.get(observation.id) in (None, "", "N"):
        return "abnormal"
    return None


def raise_for(patient, observations: list[Observation]) -> list[Alert]:
    """Create alerts for new observations (the caller commits); the doctor is
    told through the notification outbox after commit."""
    flagged = [o for o in observations if o.flag in CRITICAL + ABNORMAL and not o.superseded_by]
    if flagged:  # one alert per result: a result stored again (or made current again) keeps the one it has
        alerted = set(db.session.scalars(select(Alert.observation_id).where(
            Alert.observation_id.in_([o.id for o in flagged]))))
        flagged = [o for o in flagged if o.id not in alerted]
    if not flagged:
        return []
    previous = results.previous_flags(patient.id, [o for o in flagged if o.flag not in CRITICAL])
    alerting = [(o, kind) for o in flagged if (kind := _kind(o, previous))]
    if not alerting:
        return []
    made = []
    for observation, kind in alerting:
        indicator = db.session.get_one(Indicator, (patient.tenant_id, observation.indicator_id))  # loaded already
        value = f"{observation.value_text} {observation.reported_unit}".strip()
        alert = Alert(patient_id=patient.id, observation_id=observation.id, kind=kind,
                      summary=f"{indicator.name_zh} {value} ({observation.flag})"[:200],
                      doctor_id=patient.responsible_doctor_id)
        made.append((alert, indicator, value, observation.flag))
    db.session.add_all([alert for alert, *_ in made])
    db.session.flush()
    _notify_doctor(patient, made)
    return [alert for alert, *_ in made]


def _notify_doctor(patient, made: list[tuple[Alert, Indicator, str, str]]) -> None:
    if not patient.responsible_doctor_id:
        return  # no responsible doctor: the alerts wait in the list for every doctor
    doctor = staff.get_staff(patient.responsible_doctor_id)
    if doctor is None or not doctor.active:
        return
    clinic = db.session.get_one(Tenant, patient.tenant_id)
    for alert, indicator, value, flag in made:
        notifications.notify(
            "abnormal_result_alert", notifications.staff_recipient(doctor),
            {"patient_name": patient.name, "card_no": patient.card_no, "indicator": indicator.name_zh,
             "value": value, "flag": flag, "clinic": clinic.name},
            idempotency_key=f"alert:{alert.id}", channels=("inapp",))


def _visible_to(staff_id: int):
    return or_(Alert.doctor_id == staff_id, Alert.doctor_id.is_(None))


def open_alerts(staff_id: int, *, everyone: bool = False, limit: int = 100) -> list[Alert]:
    query = select(Alert).where(Alert.status == "open").order_by(Alert.id.desc()).limit(limit)
    return list(db.session.scalars(query if everyone else query.where(_visible_to(staff_id))))


def open_count(staff_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(Alert).where(
        Alert.status == "open", _visible_to(staff_id))).scalar_one()


def get(alert_id: int) -> Alert | None:
    return db.session.scalar(select(Alert).where(Alert.id == alert_id))


def acknowledge(alert: Alert, note: str, actor_id: int) -> None:
    if alert.status != "open":
        return
    alert.status, alert.note = "acknowledged", note.strip()
    alert.acknowledged_by, alert.acknowledged_at = actor_id, utcnow()


def withdraw(observation_ids: list[int]) -> None:
    """Results the lab retracted: their open alerts close (the caller commits)."""
    if not observation_ids:
        return
    for alert in db.session.scalars(select(Alert).where(Alert.observation_id.in_(observation_ids),
                                                        Alert.status == "open")):
        alert.status, alert.note = "withdrawn", "retracted by the lab"
        alert.acknowledged_at = utcnow()
