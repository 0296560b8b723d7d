"""The public exam shop: packages, their calendar of free places, booking."""
import secrets
from datetime import date, time

from babel.dates import format_skeleton, get_day_names
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.booking import services as booking
from app.core.access import public
from app.core.errors import found_or_404
from app.core.htmx import wants_partial
from app.core.validators import required
from app.patients import services as patients
from app.portal import services, session
from app.portal.forms import BookForm, DetailsForm
from tenants.db import db

bp = Blueprint("shop", __name__, url_prefix="/shop")


def month_label(first: date) -> str:
    return format_skeleton("yMMMM", first, locale=get_locale())


def parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return None


def parse_slot(raw: str | None) -> time | None:
    try:
        return time.fromisoformat(raw or "")
    except ValueError:
        return None


def calendar_context(package, *, page_url, slot_action: str, slot_method: str) -> dict:
    """The calendar month and the chosen day's slots, from ?month and ?day."""
    day = parse_day(request.args.get("day"))
    year, month_no = booking.availability.parse_month(request.args.get("month") or (f"{day:%Y-%m}" if day else None))
    month = booking.availability.month(package, year, month_no)
    state = booking.availability.day_state(package, day) if day else None
    names = get_day_names("abbreviated", locale=get_locale())
    return {"month": month, "month_label": month_label(month.first), "chosen": day, "day_state": state,
            "weekday_short": [names[i] for i in range(7)],
            "page_url": page_url, "slot_action": slot_action, "slot_method": slot_method}


def _partial(context: dict):
    """An htmx request for ?part=calendar or ?part=slots gets that fragment."""
    part = request.args.get("part")
    if wants_partial() and part in ("calendar", "slots"):
        return render_template(f"portal/_{part}.html", **context)
    return None


def signed_in_patient():
    """The signed-in patient's card, or None (anonymous, or no card yet)."""
    account = session.current_account()
    return services.patient_of(account) if account is not None else None


@bp.route("")
@public
def index():
    category = request.args.get("category", "")
    sex = request.args.get("sex", "")
    found = booking.list_packages(category=category, sex=sex)
    patient = signed_in_patient()
    hidden: list = []
    if patient is not None:  # offer only what this patient can book; say what is left out and why
        found, hidden = booking.bookable_for(found, patient)
    template = "portal/_packages.html" if wants_partial() else "portal/shop.html"
    return render_template(template, packages=found, hidden=hidden, category=category, sex=sex)


@bp.route("/packages/<id:package_id>")
@public
def package(package_id: int):
    package = found_or_404(booking.get_package(package_id, active_only=True))
    patient = signed_in_patient()
    refusal = (booking.availability.eligibility_refusal(package, patient.sex, patient.birth_date)
               if patient is not None else None)
    if refusal is not None:  # why, instead of a calendar of dates this patient cannot book
        if wants_partial() and request.args.get("part"):
            return render_template("portal/_not_eligible.html", package=package, refusal=refusal.message)
        return render_template("portal/package.html", package=package, preparation=booking_preparation(package),
                               refusal=refusal.message, held=[])
    context = calendar_context(
        package, page_url=lambda **a: url_for("shop.package", package_id=package.id, **a),
        slot_action=url_for("shop.book", package_id=package.id), slot_method="get")
    held = booking.orders.upcoming_of(patient.id, package.id) if patient is not None else []
    return _partial(context) or render_template(
        "portal/package.html", package=package, preparation=booking_preparation(package), refusal=None,
        held=held, **context)


def booking_preparation(package) -> str:
    return booking.preparation(package)


@bp.route("/packages/<id:package_id>/book", methods=["GET", "POST"])
@public
def book(package_id: int):
    package = found_or_404(booking.get_package(package_id, active_only=True))
    account = session.current_account()
    if account is None:
        if request.method == "POST":
            abort(403)
        return session.to_sign_in()
    patient = services.patient_of(account)
    form = BookForm() if patient else DetailsForm()
    if request.method == "GET":
        form.day.data, form.slot.data = request.args.get("day", ""), request.args.get("slot", "")
        form.idem.data = secrets.token_urlsafe(24)
    day, slot = parse_day(form.day.data), parse_slot(form.slot.data)
    if day is None or slot is None:
        flash(_("Please choose a date and a time first."))
        return redirect(url_for("shop.package", package_id=package.id))
    refusal = existing = None
    if form.validate_on_submit():
        try:
            if patient is None:
                patient = services.confirm_details(account, _details(form),
                                                   consent_version=current_app.config["CONSENT_VERSION"])
            booked = booking.book_once(package.id, day, slot, patient, idempotency_key=required(form.idem),
                                       account_id=account.id)
        except patients.PatientError as exc:
            db.session.rollback()
            patient = None
            for name, message in exc.errors.items():
                if hasattr(form, name):
                    getattr(form, name).errors = list(getattr(form, name).errors) + [message]
                else:
                    refusal = message
        except booking.BookingRefused as exc:
            db.session.rollback()
            patient = services.patient_of(account) if account.patient_id else None
            refusal = exc.message
        else:
            db.session.commit()
            order = booked.order
            if booked.created:
                flash(_("Booked: %(package)s on %(date)s at %(time)s. Order %(no)s.", package=order.package_name,
                        date=order.day.isoformat(), time=order.start.strftime("%H:%M"), no=order.order_no))
            else:
                flash(_("You have booked %(package)s on %(date)s already, at %(time)s (order %(no)s). Nothing new "
                        "was booked: this is your booking.", package=order.package_name,
                        date=order.day.isoformat(), time=order.start.strftime("%H:%M"), no=order.order_no))
            return redirect(url_for("portal.order", order_id=order.id))
    elif request.method == "GET" and patient is not None:
        existing = booking.orders.holding(patient.id, package.id, day)
        if existing is None:
            try:  # say now, not after the form, if this person cannot have this package or date
                booking.availability.check_eligible(package, patient.sex, patient.birth_date, day)
                booking.availability.check_date(day)
            except booking.BookingRefused as exc:
                refusal = exc.message
    status = 409 if refusal else (400 if form.errors else 200)
    slot_state = next((s for s in booking.availability.day_state(package, day).slots if s.start == slot), None)
    return render_template("portal/book.html", package=package, form=form, patient=patient, day=day, slot=slot,
                           slot_state=slot_state, refusal=refusal, existing=existing,
                           mobile=services.mobile_of(account), preparation=booking_preparation(package)), status


def _details(form: DetailsForm) -> patients.PatientData:
    return patients.PatientData(name=form.name.data or "", sex=form.sex.data or "", birth_date=form.birth_date.data,
                                mobile="", id_number=form.id_number.data or "", email=form.email.data or "")
