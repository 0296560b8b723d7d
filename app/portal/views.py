"""The patient's own pages: sign-in with a code, bookings, cancel, reschedule."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.booking import services as booking
from app.core.access import public
from app.core.redirects import back_to_referrer
from app.core.validators import required
from app.portal import display, services, session
from app.portal.forms import CancelForm, CodeForm, MobileForm, RescheduleForm
from app.portal.shop_views import _partial, booking_preparation, calendar_context, parse_day, parse_slot
from tenants.db import db

bp = Blueprint("portal", __name__, url_prefix="/portal")


def _client_address() -> str:
    return request.remote_addr or ""


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    form = MobileForm()
    target = session.safe_next(request.values.get("next"), url_for("portal.index"))
    if form.validate_on_submit():
        try:
            sent = services.request_code(required(form.mobile), _client_address(), locale=str(get_locale()))
        except services.SigninRefused as exc:
            db.session.commit()  # the counts behind the limits
            form.mobile.errors = list(form.mobile.errors) + [exc.message]
        else:
            db.session.commit()
            code_form = CodeForm(formdata=None, mobile=sent.mobile, next=target)
            return render_template("portal/sign_in_code.html", form=code_form, mobile=sent.mobile,
                                   minutes=sent.minutes)
    form.next.data = target
    return render_template("portal/sign_in.html", form=form), (400 if form.errors else 200)


@bp.route("/sign-in/code", methods=["POST"])
@public
def verify_code():
    form = CodeForm()
    target = session.safe_next(form.next.data, url_for("portal.index"))
    if form.validate_on_submit():
        try:
            account = services.sign_in(required(form.mobile), required(form.code), _client_address())
        except services.SigninRefused as exc:
            db.session.commit()
            form.code.errors = list(form.code.errors) + [exc.message]
        else:
            session.start(account)
            db.session.commit()
            flash(_("You are signed in."))
            return redirect(target)
    form.next.data = target
    return render_template("portal/sign_in_code.html", form=form, mobile=form.mobile.data, minutes=None), 400


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    session.end()
    db.session.commit()
    flash(_("You are signed out."))
    return redirect(url_for("shop.index"))


@bp.route("/text-size", methods=["POST"])
@public
def text_size():
    """The larger-text mode on or off for this browser's portal pages, then back to the page."""
    size = request.form.get("size")
    if size not in display.SIZES:
        abort(400)
    display.choose(size)
    return redirect(back_to_referrer(request.referrer, request.host, url_for("shop.index")))


@bp.route("")
@public
def index():
    account = session.current_account()
    if account is None:
        return session.to_sign_in()
    return render_template("portal/orders.html", orders=services.orders(account),
                           patient=services.patient_of(account), mobile=services.mobile_of(account))


def _own_order(order_id: int):
    """The signed-in patient's order; 404 for any other (or unknown) id.
    Signed out, every id gets the same answer (sign in first), so the answer
    tells nothing about which order ids exist."""
    account = session.current_account()
    if account is None:
        return None, session.to_sign_in()
    order = services.order_of(account, order_id)
    if order is None:
        abort(404)
    return order, None


def _change_state(order) -> dict:
    rules = booking.settings()
    limit = booking.availability.change_deadline(order.day, rules)
    open_ = order.status in booking.HOLDING and booking.availability.local_now() < limit
    return {"can_change": open_, "change_deadline": limit}


@bp.route("/orders/<id:order_id>")
@public
def order(order_id: int):
    order, response = _own_order(order_id)
    if response:
        return response
    package = booking.get_package(order.package_id)
    return render_template("portal/order.html", order=order, preparation=booking_preparation(package),
                           **_change_state(order))


@bp.route("/orders/<id:order_id>/cancel", methods=["GET", "POST"])
@public
def cancel(order_id: int):
    """A page asking to confirm; its form posts confirm=1. A post without
    it (an old page, a second tab) gets the question again, not a cancellation."""
    order, response = _own_order(order_id)
    if response:
        return response
    form = CancelForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if form.confirm.data == "1":
            try:
                booking.cancel(order, actor_type="patient", actor_id=order.account_id)
            except booking.BookingRefused as exc:
                db.session.rollback()
                flash(exc.message)
            else:
                db.session.commit()
                flash(_("Your booking %(no)s is cancelled.", no=order.order_no))
            return redirect(url_for("portal.order", order_id=order_id))
    return render_template("portal/cancel.html", order=order, form=CancelForm(formdata=None, confirm="1"),
                           **_change_state(order))


@bp.route("/orders/<id:order_id>/reschedule", methods=["GET", "POST"])
@public
def reschedule(order_id: int):
    order, response = _own_order(order_id)
    if response:
        return response
    package = booking.get_package(order.package_id)
    refusal = None
    form = RescheduleForm()
    if form.validate_on_submit():
        day, slot = parse_day(form.day.data), parse_slot(form.slot.data)
        if day is None or slot is None:
            abort(400)
        account = session.current_account()
        try:
            booking.reschedule(order, day, slot, services.patient_of(account), actor_type="patient",
                               actor_id=account.id)
        except booking.BookingRefused as exc:
            db.session.rollback()
            refusal = exc.message
            order = booking.get_order(order_id)
        else:
            db.session.commit()
            flash(_("Moved to %(date)s at %(time)s.", date=order.day.isoformat(), time=order.start.strftime("%H:%M")))
            return redirect(url_for("portal.order", order_id=order.id))
    context = calendar_context(
        package, page_url=lambda **a: url_for("portal.reschedule", order_id=order.id, **a),
        slot_action=url_for("portal.reschedule", order_id=order.id), slot_method="post")
    return _partial(context) or (render_template(
        "portal/reschedule.html", order=order, package=package, refusal=refusal, **_change_state(order),
        **context), 409 if refusal else 200)
