"""The clinic's questionnaire settings: which exam packages require an
intake form, and the front-desk tablet's staff PIN."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.booking import services as booking
from app.core.access import requires
from app.core.errors import FieldErrors
from app.questionnaires import intake, kiosk
from tenants.db import db

bp = Blueprint("questionnaire_settings", __name__)


def _page(*, errors: dict | None = None, pin_errors: dict | None = None, chosen: dict | None = None,
          status: int = 200):
    packages = booking.list_packages(active_only=False)
    current = {str(k): str(v) for k, v in intake.mapping().items()}
    return render_template("questionnaires/settings.html", packages=packages, forms=intake.choices(),
                           chosen=chosen if chosen is not None else current, errors=errors or {},
                           pin_errors=pin_errors or {}, has_pin=kiosk.has_pin()), status


@bp.route("/questionnaires/settings")
@requires("questionnaires.manage")
def index():
    return _page()


@bp.route("/questionnaires/settings/intake", methods=["POST"])
@requires("questionnaires.manage")
def intake_forms():
    wanted = {}
    for package in booking.list_packages(active_only=False):
        field = f"package_{package.id}"
        if field in request.form:
            wanted[package.id] = request.form.get(field, "")
    try:
        changed = intake.set_mapping(wanted, actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        errors = {field: _("Please choose one of the clinic's intake forms.") for field in exc.errors}
        return _page(errors=errors, chosen={str(k): v for k, v in wanted.items()}, status=400)
    db.session.commit()
    if changed:
        flash(_("Saved which packages require an intake form."), "success")
    return redirect(url_for("questionnaire_settings.index"))


@bp.route("/questionnaires/settings/kiosk-pin", methods=["POST"])
@requires("questionnaires.manage")
def kiosk_pin():
    try:
        kiosk.set_pin(request.form.get("pin", ""), request.form.get("pin_confirm", ""), actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        return _page(pin_errors=dict(exc.errors), status=400)
    db.session.commit()
    flash(_("The tablet PIN was set."), "success")
    return redirect(url_for("questionnaire_settings.index"))
