"""The clinic profile page (owner only) and the clinic's logo."""
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth import services as staff
from app.clinic import services
from app.clinic.forms import ProfileForm, SignInForm
from app.core import clock
from app.core.access import public, requires
from tenants.db import db

bp = Blueprint("clinic", __name__)


def clinic_brand() -> services.Brand | None:
    """The clinic's name and logo for the top bar (read once a request); None on the platform's own host."""
    if g.get("tenant") is None:
        return None
    if "clinic_brand" not in g:
        g.clinic_brand = services.brand()
    return g.clinic_brand


@bp.route("/settings/clinic", methods=["GET", "POST"])
@requires("clinic.profile")
def profile():
    saved = services.contact()
    form = ProfileForm(timezone=services.timezone(), name=saved.name, address=saved.address, phone=saved.phone)
    if form.validate_on_submit():
        upload = request.files.get("logo")
        data = upload.read(services.LOGO_MAX_BYTES + 1) if upload and upload.filename else None
        try:
            services.update_profile(timezone=form.timezone.data or "", address=form.address.data or "",
                                    name=(form.name.data or "") if "name" in request.form else None,
                                    phone=form.phone.data or "", logo=data, remove_logo=bool(form.remove_logo.data))
        except services.ProfileError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            db.session.commit()
            flash(_("Clinic profile saved."))
            return redirect(url_for("clinic.profile"))
    return render_template("clinic/profile.html", form=form, now=clock.utcnow(), saved=saved), \
        (400 if form.errors else 200)


@bp.route("/settings/clinic/logo")
@public
def logo():
    """The logo is the clinic's public face: the portal's header shows it to anyone on the clinic's host."""
    found = services.logo()
    if found is None:
        abort(404)
    response = Response(found[0], mimetype=found[1])
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/settings/sign-in", methods=["GET", "POST"])
@requires("clinic.profile")
def sign_in():
    form = SignInForm(data=services.sign_in_settings(), role_labels=staff.labels.ROLE)
    if form.validate_on_submit():
        try:
            services.update_sign_in(staff_idle_minutes=form.staff_idle_minutes.data,
                                    portal_idle_minutes=form.portal_idle_minutes.data,
                                    absolute_hours=form.absolute_hours.data,
                                    two_factor_roles=list(form.two_factor_roles.data or []))
        except services.ProfileError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            db.session.commit()
            flash(_("Sign-in settings saved."))
            return redirect(url_for("clinic.sign_in"))
    return render_template("clinic/sign_in.html", form=form), (400 if form.errors else 200)
