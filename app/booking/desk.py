"""The front desk's scanner: a member card's QR code (the card number) or an order number, typed by a
USB scanner into the search box with Enter, checks today's booking in.

Card numbers (prefix and six digits) and order numbers (prefix, date and a sequence) share one shape,
the clinic's prefix and digits; which one a code is, the exact lookups tell.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.booking import orders
from app.booking.models import Order
from app.core import audit
from app.patients import services as patients
from tenants.db import db


def looks_scanned(text: str) -> bool:
    """Shaped like this clinic's card or order numbers: then it is looked up as one, never searched as a name."""
    return patients.is_card_number(text)


@dataclass(frozen=True)
class Scanned:
    patient: patients.Patient | None  # the card's patient (for an order number, the order's)
    order: Order | None = None        # set when an order number was scanned
    waiting: list[Order] = field(default_factory=list)  # today's orders of it that can be checked in


def by_order_no(order_no: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.order_no == order_no))


def scan(text: str, today: date) -> Scanned | None:
    """What a scanned code names, or None for a code of nothing. A card number names the patient and their
    orders of ``today`` that wait for check-in; an order number names that order (waiting if it is today's)."""
    code = (text or "").strip().upper()
    patient = patients.find_by_card_no(code)
    if patient is not None:
        todays = db.session.scalars(select(Order).where(Order.patient_id == patient.id, Order.day == today)
                                           .order_by(Order.start, Order.created_at))
        return Scanned(patient, waiting=[o for o in todays if orders.can_transition(o, "checked_in")])
    order = by_order_no(code)
    if order is None:
        return None
    waiting = [order] if order.day == today and orders.can_transition(order, "checked_in") else []
    return Scanned(patients.get(order.patient_id), order=order, waiting=waiting)


def check_in(waiting: list[Order], *, actor_id: int) -> None:
    """Check in the patient's waiting orders of today (one arrival: a patient booked for two packages today
    is checked in for both), each audited as the one-click check-in is. The caller commits."""
    for order in waiting:
        before = order.status
        orders.transition(order, "checked_in", actor_type="staff", actor_id=actor_id)
        audit.record("order_changed", patient_id=order.patient_id, order_no=order.order_no, before=before,
                     after=order.status)
