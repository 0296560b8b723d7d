"""The clinic profile page (owner only)."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.auth import services as staff
from app.clinic import services
from app.clinic.forms import ProfileForm, SignInForm
from app.core import clock
from app.core.access import requires
from tenants.db import db

bp = Blueprint("clinic", __name__)


@bp.route("/settings/clinic", methods=["GET", "POST"])
@requires("clinic.profile")
def profile():
    form = ProfileForm(timezone=services.timezone())
    if form.validate_on_submit():
        try:
            services.update_profile(timezone=form.timezone.data or "")
        except services.ProfileError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            db.session.commit()
            flash(_("Clinic profile saved."))
            return redirect(url_for("clinic.profile"))
    return render_template("clinic/profile.html", form=form, now=clock.utcnow()), (400 if form.errors else 200)


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
