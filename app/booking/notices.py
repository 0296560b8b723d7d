"""Messages to the patient about an order, through the notification outbox.

Each is written in the caller's transaction (sent after commit) with an
idempotency key, so a retried request or job never sends twice. A patient
who cannot be reached (no valid address) does not stop the booking. An
order's notices form one thread: a newer one cancels an older one that has
not gone out yet. What the patient has just done (booked, changed,
cancelled) is confirmed at once, in quiet hours too; reminders wait.
"""
from flask_babel import gettext as _

from app.clinic import services as clinic_profile
from app.notifications import services as notifications
from app.patients import services as patients


def preparation(package) -> str:
    parts = []
    if package.fasting:
        parts.append(_("Do not eat or drink (except water) for 8–12 hours before the exam."))
    if package.no_alcohol:
        parts.append(_("No alcohol for 3 days before the exam."))
    if package.preparation.strip():
        parts.append(package.preparation.strip())
    return " ".join(parts) or _("No special preparation.")


def _send(template: str, order, key: str, extra: dict | None = None) -> None:
    patient = patients.get(order.patient_id)
    if patient is None:  # an order keeps its patient (foreign key)
        raise LookupError(f"order {order.id}: patient {order.patient_id} not found")
    clinic = clinic_profile.name()
    variables = {"patient_name": patient.name, "package": order.package_name, "date": order.day.isoformat(),
                 "time": order.start.strftime("%H:%M"), "clinic": clinic, "order_no": order.order_no}
    variables.update(extra or {})
    notifications.notify(template, notifications.patient_recipient(patient), variables, idempotency_key=key,
                         thread=f"order:{order.id}", channel_by_channel=True)


def confirmation(order, package) -> None:
    _send("booking_confirmation", order, f"booking:{order.id}:confirmation",
          {"preparation": preparation(package)})


def reminder(order, package) -> None:
    _send("booking_reminder", order, f"booking:{order.id}:reminder:{order.day.isoformat()}",
          {"preparation": preparation(package)})


def cancelled(order) -> None:
    _send("booking_cancelled", order, f"booking:{order.id}:cancelled")


def changed(order, package, event_id: int) -> None:
    _send("booking_changed", order, f"booking:{order.id}:changed:{event_id}",
          {"preparation": preparation(package)})
