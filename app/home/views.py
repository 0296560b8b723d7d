from flask import Blueprint, render_template

from app.core.access import requires
from app.home import services

bp = Blueprint("home", __name__)


@bp.route("/")
@requires("dashboard.view")
def dashboard():
    home = services.for_staff()
    return render_template("home/dashboard.html", patient_count=home.patient_count, recent=home.recent)
