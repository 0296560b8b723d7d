from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.booking import services as booking
from app.core import clock
from app.core.access import requires
from app.dashboard import services as clinic_dashboard
from app.home import navigation, services
from tenants.db import db

bp = Blueprint("home", __name__)


@bp.route("/")
@requires("dashboard.view")
def dashboard():
    """Each role's own start of the day."""
    page = services.PAGE_OF_ROLE.get(current_user.role, "clinic")
    if page == "front_desk":
        return render_template("home/front_desk.html", home=services.front_desk(),
                               checked_in=request.args.get("checked_in", type=int))
    if page == "doctor":
        return render_template("home/doctor.html", home=services.doctor(current_user))
    if page == "health_manager":
        return render_template("home/health_manager.html", home=services.health_manager(current_user))
    if current_user.can("dashboard.clinic"):  # owners and admins start the day on the clinic dashboard
        span = clinic_dashboard.choose_range(None, None)
        return render_template("dashboard/index.html", **clinic_dashboard.page_context(span))
    return render_template("home/clinic.html", home=services.clinic())


@bp.route("/scan", methods=["POST"])
@requires("patients.view")
def scan():
    """Enter in the front desk's search box. A card or order number (a USB scanner types the member card's
    QR code and Enter) checks the patient's booking of today in, or opens the card when none waits; an
    unknown code says so beside the box; any other text is a patient search."""
    text = request.form.get("q", "")[:100].strip()
    if not booking.desk.looks_scanned(text):
        return redirect(url_for("patients.index", q=text) if text else url_for("patients.index"))
    found = booking.desk.scan(text, clock.today())
    if found is None or found.patient is None:
        return render_template("home/front_desk.html", home=services.front_desk(), query=text,
                               scan_error=_("No card or order has the number %(code)s.", code=text)), 400
    if found.waiting and current_user.can("booking.desk"):
        booking.desk.check_in(found.waiting, actor_id=current_user.id)
        db.session.commit()
        flash(_("%(name)s checked in: %(what)s.", name=found.patient.name,
                what=_(", ").join(f"{o.start:%H:%M} {o.package_name}" for o in found.waiting)))
        return redirect(url_for("home.dashboard", checked_in=found.waiting[0].id))
    if found.order is not None and current_user.can("booking.schedule"):
        return redirect(url_for("booking.order", order_id=found.order.id))
    flash(_("%(name)s has no booking to check in today.", name=found.patient.name))
    return redirect(url_for("patients.detail", patient_id=found.patient.id))


settings_bp = Blueprint("settings", __name__, url_prefix="/settings")


@settings_bp.route("")
@requires("account.self")
def index():
    """The settings hub: every settings page the role may open, in one place."""
    return render_template("home/settings.html", sections=navigation.settings_sections())
