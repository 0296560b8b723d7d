"""The clinic profile page (owner only)."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.clinic import services
from app.clinic.forms import ProfileForm
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
