from flask import Blueprint, render_template
from flask_login import current_user

from app.core.access import requires
from app.dashboard import services as clinic_dashboard
from app.home import navigation, services

bp = Blueprint("home", __name__)


@bp.route("/")
@requires("dashboard.view")
def dashboard():
    """Each role's own start of the day."""
    page = services.PAGE_OF_ROLE.get(current_user.role, "clinic")
    if page == "front_desk":
        return render_template("home/front_desk.html", home=services.front_desk())
    if page == "doctor":
        return render_template("home/doctor.html", home=services.doctor(current_user))
    if page == "health_manager":
        return render_template("home/health_manager.html", home=services.health_manager(current_user))
    if current_user.can("dashboard.clinic"):  # owners and admins start the day on the clinic dashboard
        span = clinic_dashboard.choose_range(None, None)
        return render_template("dashboard/index.html", **clinic_dashboard.page_context(span))
    return render_template("home/clinic.html", home=services.clinic())


settings_bp = Blueprint("settings", __name__, url_prefix="/settings")


@settings_bp.route("")
@requires("account.self")
def index():
    """The settings hub: every settings page the role may open, in one place."""
    return render_template("home/settings.html", sections=navigation.settings_sections())
