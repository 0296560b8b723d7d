"""Staff: the day's schedule, an order, check-in and the other desk actions."""
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.booking import labels, services
from app.booking.forms import OrderActionForm, PaymentForm
from app.core import audit, clock
from app.core.access import requires
from app.core.errors import found_or_404
from app.core.htmx import wants_partial
from app.patients import services as patients
from tenants.db import db

bp = Blueprint("booking", __name__, url_prefix="/booking")


def _day_arg() -> date:
    try:
        return date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return services.availability.window(services.settings())[0]


@bp.route("/schedule")
@requires("booking.schedule")
def schedule():
    day = _day_arg()
    rows = services.schedule(day)
    names = patients.get_many(o.patient_id for row in rows for o in row.orders)
    return render_template("booking/schedule.html", day=day, rows=rows, patients=names,
                           previous=day - timedelta(days=1), next=day + timedelta(days=1))


def _actor_names(events) -> dict[int, str]:
    """Staff members' names by id, for the order history."""
    ids = {e.actor_id for e in events if e.actor_type == "staff" and e.actor_id is not None}
    found = {user_id: staff.get_staff(user_id) for user_id in ids}
    return {user_id: user.name for user_id, user in found.items() if user is not None}


def _order_page(order, *, confirming: str | None = None, note: str = ""):
    """The order page; ``confirming`` names an action waiting for its second click (cancel, check_in)."""
    actions = [(key, label) for key, (to, label) in labels.ACTION.items()
               if services.orders.can_transition(order, to)]
    events = services.orders.events(order)
    return render_template("booking/order.html", order=order, patient=patients.get(order.patient_id),
                           events=events, staff_names=_actor_names(events), actions=actions,
                           form=OrderActionForm(), payment_form=PaymentForm(),
                           confirm_form=OrderActionForm(formdata=None, confirm="1", note=note),
                           confirming=confirming, today=clock.today(),
                           can_pay=order.paid_at is None and order.status not in ("cancelled", "refunded", "no_show"))


@bp.route("/orders/<id:order_id>")
@requires("booking.schedule")
def order(order_id: int):
    return _order_page(found_or_404(services.get_order(order_id)))


@bp.route("/orders/<id:order_id>/action/<action>", methods=["POST"])
@requires("booking.desk")
def order_action(order_id: int, action: str):
    """One click for most actions. Cancelling always asks first, and checking
    in an order of another day warns first: the answer is the order page with
    the question, whose form posts again with confirm=1."""
    order = found_or_404(services.get_order(order_id))
    if action not in labels.ACTION:
        abort(404)
    if action == "refund" and not current_user.can("booking.payments"):
        abort(403)
    form = OrderActionForm()
    if not form.validate_on_submit():
        abort(400)
    confirmed = form.confirm.data == "1"
    note = form.note.data or ""
    if action == "cancel" and not confirmed and services.orders.can_transition(order, "cancelled"):
        return _order_page(order, confirming="cancel", note=note)
    before = order.status
    try:
        if action == "cancel":
            services.cancel(order, actor_type="staff", actor_id=current_user.id, note=note)
        else:
            services.transition(order, labels.ACTION[action][0], actor_type="staff", actor_id=current_user.id,
                                note=note, confirmed=confirmed)
    except services.NeedsConfirmation:
        db.session.rollback()
        return _order_page(order, confirming=action, note=note)
    except services.BookingRefused as exc:
        db.session.rollback()
        if wants_partial() and action == "check_in":
            return _arrival_row(order, problem=exc.message)
        flash(exc.message)
        return redirect(url_for("booking.order", order_id=order_id))
    detail = {"booked_for": order.day.isoformat()} if action == "check_in" and order.day != clock.today() else {}
    audit.record("order_changed", patient_id=order.patient_id, order_no=order.order_no, before=before,
                 after=order.status, **detail)
    db.session.commit()
    if wants_partial() and action == "check_in":  # the front desk's home page: the row, checked in
        return _arrival_row(order)
    flash(_("Order %(no)s: %(status)s.", no=order.order_no, status=labels.STATUS[order.status]))
    if action == "check_in":  # the front desk goes on to the patient's card
        return redirect(url_for("patients.detail", patient_id=order.patient_id))
    return redirect(url_for("booking.order", order_id=order_id))


def _arrival_row(order, problem: str = ""):
    """One row of today's arrivals on the front desk's home page."""
    return render_template("booking/_arrival_row.html", order=order, patient=patients.get(order.patient_id),
                           problem=problem, action_form=OrderActionForm())


@bp.route("/orders/<id:order_id>/paid", methods=["POST"])
@requires("booking.payments")
def order_paid(order_id: int):
    order = found_or_404(services.get_order(order_id))
    form = PaymentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.mark_paid(order, actor_id=current_user.id, reference=form.reference.data or "")
    except services.BookingRefused as exc:
        db.session.rollback()
        flash(exc.message)
    else:
        audit.record("order_changed", patient_id=order.patient_id, order_no=order.order_no, paid=True)
        db.session.commit()
        flash(_("Order %(no)s marked paid.", no=order.order_no))
    return redirect(url_for("booking.order", order_id=order_id))
