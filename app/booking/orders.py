"""Booking, cancelling, rescheduling and moving orders through their states.

Places are taken with one conditional UPDATE per counter
(``SET booked = booked + 1 WHERE booked < :capacity``), in one fixed order
(package-day, day, slot; keys ascending) so concurrent transactions never
deadlock. The UPDATE's row lock serialises bookings of the same place and
the counters' CHECK constraints back it up. Callers commit, or roll back
after a ``BookingRefused``.

A patient holds at most one order of a package per day: a partial unique
index on (tenant, patient, package, day) over the statuses in ``HOLDING``
enforces it, and a second booking is answered with the order they hold.
"""
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.booking import availability, notices, payments
from app.booking.availability import BookingRefused, NeedsConfirmation
from app.booking.models import UNLIMITED, DayCounter, ExamPackage, Order, OrderEvent, PackageDayCounter, SlotCounter
from app.booking.signals import order_completed, order_placed
from app.core import audit
from app.core import events as event_path
from app.core.bulk import conflict_insert
from app.patients import services as patients
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.ids import new_id
from tenants.models import Tenant, utcnow

STATUSES = ("pending_payment", "pay_at_clinic", "paid", "confirmed", "checked_in", "completed", "cancelled",
            "refunded", "no_show")
# Orders in these states hold a place (models.HOLDING_SQL says the same to the database).
HOLDING = frozenset({"pending_payment", "pay_at_clinic", "paid", "confirmed"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    "pay_at_clinic": frozenset({"paid", "confirmed", "checked_in", "cancelled", "no_show"}),
    "paid": frozenset({"confirmed", "checked_in", "cancelled", "no_show"}),
    "confirmed": frozenset({"paid", "checked_in", "cancelled", "no_show"}),
    "checked_in": frozenset({"completed"}),
    "completed": frozenset(),
    "cancelled": frozenset({"refunded"}),   # only a paid order
    "no_show": frozenset({"refunded"}),     # only a paid order
    "refunded": frozenset(),
}


def can_transition(order: Order, to: str) -> bool:
    if to not in TRANSITIONS[order.status]:
        return False
    return to != "refunded" or order.paid_at is not None


# ---------------------------------------------------------------- counters

def _take(model, key: dict, capacity: int) -> bool:
    """One more place, if one is free, in one statement: insert the counter
    with 1 booked, or on conflict raise ``booked`` only while it is below the
    capacity (refreshed from the rules). No row back: full."""
    statement = conflict_insert(model).values(tenant_id=require_tenant_id(), capacity=capacity, booked=1, **key)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", *key], set_={"booked": model.booked + 1, "capacity": capacity},
        where=model.booked < capacity).returning(model.booked)
    return db.session.execute(statement).first() is not None


def _where(model, key: dict):
    return [model.tenant_id == require_tenant_id()] + [getattr(model, k) == v for k, v in key.items()]


def _release(model, key: dict) -> None:
    db.session.execute(update(model).where(*_where(model, key), model.booked > 0)
                       .values(booked=model.booked - 1).execution_options(synchronize_session=False))


_RANK = {PackageDayCounter: 0, DayCounter: 1, SlotCounter: 2}


def _counter_ops(package: ExamPackage, day: date, start: time, slot_capacity: int, sign: int) -> list:
    rules = availability.settings()
    return [
        (PackageDayCounter, {"package_id": package.id, "day": day},
         package.daily_limit if package.daily_limit is not None else UNLIMITED, sign),
        (DayCounter, {"day": day}, rules.daily_capacity or UNLIMITED, sign),
        (SlotCounter, {"day": day, "start": start}, slot_capacity, sign),
    ]


_FULL = {
    PackageDayCounter: ("package_full", lambda: _("This package is fully booked on that day.")),
    DayCounter: ("day_full", lambda: _("The clinic is fully booked on that day.")),
    SlotCounter: ("full", lambda: _("This time slot is full; please choose another.")),
}


def _apply(ops: list) -> None:
    """Apply (+1/-1) counter changes in the one global lock order."""
    def order_key(op):
        model, key, _capacity, _sign = op
        return (_RANK[model], tuple(sorted((k, str(v)) for k, v in key.items())))

    for model, key, capacity, sign in sorted(ops, key=order_key):
        if sign > 0:
            if not _take(model, key, capacity):
                reason, message = _FULL[model]
                raise BookingRefused(reason, message())
        else:
            _release(model, key)


# ------------------------------------------------------------------- reads

def get(order_id: int) -> Order | None:
    return db.session.scalar(select(Order).where(Order.id == order_id))


def by_key(idempotency_key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.idempotency_key == idempotency_key))


def of_patient(patient_id: int) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.patient_id == patient_id)
                                   .order_by(Order.day.desc(), Order.start.desc())))


def on_day(day: date) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.day == day).order_by(Order.start, Order.created_at)))


def last_and_next(patient_id: int, today: date) -> tuple[Order | None, Order | None]:
    """A patient's last visit (an order checked in or completed, up to today) and next booking (an order
    holding a place from today on), in one query."""
    visited = frozenset({"checked_in", "completed"})
    rows = list(db.session.scalars(select(Order).where(
        Order.patient_id == patient_id,
        or_(and_(Order.status.in_(visited), Order.day <= today),
            and_(Order.status.in_(HOLDING), Order.day >= today)))
        .order_by(Order.day, Order.start)))
    past = [o for o in rows if o.status in visited]
    coming = [o for o in rows if o.status in HOLDING]
    return (past[-1] if past else None), (coming[0] if coming else None)


def holding(patient_id: int, package_id: int, day: date, *, excluding: int | None = None) -> Order | None:
    """The patient's order of this package on this day that holds a place (at most one)."""
    query = select(Order).where(Order.patient_id == patient_id, Order.package_id == package_id, Order.day == day,
                                Order.status.in_(HOLDING))
    if excluding is not None:
        query = query.where(Order.id != excluding)
    return db.session.scalar(query)


def upcoming_of(patient_id: int, package_id: int) -> list[Order]:
    """The patient's orders of this package that hold a place, from the clinic's today on."""
    return list(db.session.scalars(select(Order).where(
        Order.patient_id == patient_id, Order.package_id == package_id, Order.status.in_(HOLDING),
        Order.day >= availability.local_now().date()).order_by(Order.day)))


def due_on(day: date) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.day == day, Order.status.in_(HOLDING))))


def events(order: Order) -> list[OrderEvent]:
    return list(db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                   .order_by(OrderEvent.at, OrderEvent.id)))


# ------------------------------------------------------------------ writes

def _event(order: Order, kind: str, from_status: str, to_status: str, actor_type: str, actor_id: int | None,
           note: str = "") -> OrderEvent:
    event = OrderEvent(id=new_id(), order_id=order.id, kind=kind, from_status=from_status, to_status=to_status,
                       actor_type=actor_type, actor_id=actor_id, note=note[:300])
    db.session.add(event)
    return event


def _order_no(today: date) -> str:
    seq = patients.next_counter(f"order{today:%Y%m%d}")
    prefix = db.session.get_one(Tenant, require_tenant_id()).card_prefix
    return f"{prefix}{today:%Y%m%d}{seq:03d}"


@dataclass(frozen=True)
class Booked:
    order: Order
    created: bool  # False: an order the patient had already (this form again, or this package on this day)


def book_once(package_id: int, day: date, start: time, patient, *, idempotency_key: str,
              account_id: int | None = None, actor_type: str = "patient", actor_id: int | None = None,
              provider: str = "pay_at_clinic", now: datetime | None = None) -> Booked:
    """Take a place and create the order, once: a second submission of the
    same form (idempotency key), or any booking of a package on a day when
    the patient holds an order of that package on that day already, gets
    that order back instead, concurrent submissions included. The insert
    runs in a savepoint, so a submission that loses a race gives its places
    back and leaves the rest of the caller's transaction alone."""
    if not idempotency_key or len(idempotency_key) > 64:
        raise BookingRefused("form", _("The form has expired; please start again."))
    existing = by_key(idempotency_key)
    if existing is not None:
        return Booked(_same_patient(existing, patient), False)
    existing = holding(patient.id, package_id, day)
    if existing is not None:
        return Booked(existing, False)
    package = db.session.scalar(select(ExamPackage).where(ExamPackage.id == package_id))
    if package is None or not package.active:
        raise BookingRefused("inactive", _("This package is no longer offered."))
    availability.check_eligible(package, patient.sex, patient.birth_date, day)
    slot = next((s for s in availability.check_date(day, now=now) if s.start == start), None)
    if slot is None:
        raise BookingRefused("no_slot", _("There is no such time slot on %(date)s.", date=day.isoformat()))
    chosen = payments.provider(provider)
    try:
        with db.session.begin_nested():
            _apply(_counter_ops(package, day, start, slot.capacity, +1))
            order = Order(order_no=_order_no(availability.local_now(now).date()), idempotency_key=idempotency_key,
                          package_id=package.id, package_name=package.name, patient_id=patient.id,
                          account_id=account_id, day=day, start=slot.start, end=slot.end,
                          status=chosen.initial_status, price_fen=package.price_fen, payment_provider=chosen.key)
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        # The same form, or the same package and day, committed meanwhile (the unique
        # indexes waited for it): give back that order; the savepoint gave back the places.
        existing = by_key(idempotency_key)
        if existing is not None:
            return Booked(_same_patient(existing, patient), False)
        existing = holding(patient.id, package_id, day)
        if existing is None:
            raise
        return Booked(existing, False)
    _event(order, "created", "", order.status, actor_type, actor_id)
    if actor_type == "patient":
        audit.record("portal_booked", patient_id=patient.id, actor_label=audit.PORTAL_ACTOR,
                     order_no=order.order_no, package=package.name, day=day.isoformat())
    notices.confirmation(order, package)
    event_path.send(order_placed, order_id=order.id, patient_id=patient.id, package_id=package.id, day=day)
    return Booked(order, True)


def book(package_id: int, day: date, start: time, patient, *, idempotency_key: str, account_id: int | None = None,
         actor_type: str = "patient", actor_id: int | None = None, provider: str = "pay_at_clinic",
         now: datetime | None = None) -> Order:
    """``book_once`` when the caller needs only the order (new or the one held already)."""
    return book_once(package_id, day, start, patient, idempotency_key=idempotency_key, account_id=account_id,
                     actor_type=actor_type, actor_id=actor_id, provider=provider, now=now).order


def _same_patient(order: Order, patient) -> Order:
    if order.patient_id != patient.id:
        raise BookingRefused("form", _("The form has expired; please start again."))
    return order


def transition(order: Order, to: str, *, actor_type: str, actor_id: int | None = None, note: str = "",
               now: datetime | None = None, confirmed: bool = False) -> OrderEvent:
    """Move an order to ``to``. Checking in an order booked for another day
    than the clinic's today raises ``NeedsConfirmation`` unless ``confirmed``."""
    if not can_transition(order, to):
        raise BookingRefused("state", _("This order cannot change from “%(from)s” to “%(to)s”.",
                                        **{"from": order.status, "to": to}))
    if to == "checked_in":
        today = availability.local_now(now).date()
        if order.day != today:
            if not confirmed:
                raise NeedsConfirmation("other_day", _(
                    "This order is booked for %(date)s, not for today (%(today)s). Check the patient in anyway?",
                    date=order.day.isoformat(), today=today.isoformat()))
            note = note or _("Checked in on %(today)s; booked for %(date)s.", today=today.isoformat(),
                             date=order.day.isoformat())
    if order.status in HOLDING and to == "cancelled":
        package = db.session.get_one(ExamPackage, (order.tenant_id, order.package_id))
        _apply(_counter_ops(package, order.day, order.start, 0, -1))
    before, order.status = order.status, to
    moment = now or utcnow()
    if to == "paid":
        order.paid_at = moment
    if to == "checked_in":
        order.checked_in_at = moment
    event = _event(order, "status", before, to, actor_type, actor_id, note)
    if to == "completed":
        event_path.send(order_completed, order_id=order.id, patient_id=order.patient_id, label=order.order_no)
    return event


def cancel(order: Order, *, actor_type: str, actor_id: int | None = None, note: str = "",
           now: datetime | None = None) -> OrderEvent:
    """A patient cancels until the clinic's cut-off; staff at any time before check-in."""
    if order.status not in HOLDING:
        raise BookingRefused("state", _("This order can no longer be cancelled."))
    if actor_type == "patient":
        availability.check_change_allowed(order.day, now=now)
    event = transition(order, "cancelled", actor_type=actor_type, actor_id=actor_id, note=note, now=now)
    notices.cancelled(order)
    return event


def reschedule(order: Order, day: date, start: time, patient, *, actor_type: str, actor_id: int | None = None,
               now: datetime | None = None) -> OrderEvent:
    """Move an order to another date or slot: the new place is taken and the
    old one freed in one transaction."""
    if order.status not in HOLDING:
        raise BookingRefused("state", _("This order can no longer be changed."))
    if actor_type == "patient":
        availability.check_change_allowed(order.day, now=now)
    if (day, start) == (order.day, order.start):
        raise BookingRefused("same", _("That is the date and time you have already."))
    if day != order.day:
        _refuse_second_on(order, day)
    package = db.session.get_one(ExamPackage, (order.tenant_id, order.package_id))
    availability.check_eligible(package, patient.sex, patient.birth_date, day)
    slot = next((s for s in availability.check_date(day, now=now) if s.start == start), None)
    if slot is None:
        raise BookingRefused("no_slot", _("There is no such time slot on %(date)s.", date=day.isoformat()))
    ops = _counter_ops(package, day, start, slot.capacity, +1)
    old = _counter_ops(package, order.day, order.start, 0, -1)
    merged: dict = {}
    for model, key, capacity, sign in ops + old:  # the same counter +1 and -1 cancel out
        entry = merged.setdefault((model, tuple(sorted(key.items()))), [model, key, capacity, 0])
        entry[2], entry[3] = max(entry[2], capacity), entry[3] + sign
    _apply([tuple(entry) for entry in merged.values() if entry[3]])
    note = f"{order.day.isoformat()} {order.start:%H:%M} → {day.isoformat()} {slot.start:%H:%M}"
    order.day, order.start, order.end = day, slot.start, slot.end
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the patient booked this package on that day meanwhile
        _refuse_second_on(order, day)
        raise
    event = _event(order, "rescheduled", order.status, order.status, actor_type, actor_id, note)
    notices.changed(order, package, event.id)
    return event


def _refuse_second_on(order: Order, day: date) -> None:
    other = holding(order.patient_id, order.package_id, day, excluding=order.id)
    if other is not None:
        raise BookingRefused("duplicate", _(
            "There is a booking of %(package)s on %(date)s already (order %(no)s, %(time)s). Please choose "
            "another date, or change or cancel that booking.", package=other.package_name,
            date=day.isoformat(), no=other.order_no, time=other.start.strftime("%H:%M")))


def mark_paid(order: Order, *, actor_id: int | None, reference: str = "", now: datetime | None = None) -> OrderEvent:
    """Staff record a payment taken at the clinic (through the order's provider)."""
    provider = payments.provider(order.payment_provider)
    if not provider.staff_can_mark_paid:
        raise BookingRefused("payment", _("This order is paid online; staff cannot mark it paid."))
    if order.paid_at is not None:
        raise BookingRefused("payment", _("This order is paid already."))
    order.payment_ref = reference[:80]
    if can_transition(order, "paid"):
        return transition(order, "paid", actor_type="staff", actor_id=actor_id, note=reference, now=now)
    if order.status in ("checked_in", "completed"):  # paid after the exam: the status stays
        order.paid_at = now or utcnow()
        return _event(order, "payment", order.status, order.status, "staff", actor_id, reference)
    raise BookingRefused("state", _("A cancelled order cannot be paid."))
