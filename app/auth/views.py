import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import services
from app.auth.forms import LoginForm, StaffForm, StaffUpdateForm
from app.core import audit
from app.core.access import public, requires
from app.core.htmx import render
from app.core.redirects import safe_target
from app.core.validators import required
from tenants.db import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return safe_target(target, url_for("home.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = services.authenticate(
            required(form.email),
            required(form.password),
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
        if result.locked_until:
            error = _(
                "Too many failed sign-ins: this account is locked until %(time)s. Try again then, or ask an admin.",
                time=format_datetime(result.locked_until, "short"),
            )
        elif not result.ok:
            error = _("Email or password is not correct.")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at sign-in: nothing carries over
            if lang:
                session["lang"] = lang
            session["sid"] = secrets.token_urlsafe(16)
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form, error=error), (400 if error else 200)


@bp.route("/logout", methods=["POST"])
@requires("dashboard.view")
def logout():
    audit.record("sign_out")
    db.session.commit()
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))


@bp.route("/staff", methods=["GET", "POST"])
@requires("staff.manage")
def staff_list():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            services.add_staff(required(form.email), required(form.name), form.role.data, required(form.password),
                               actor=current_user)
        except services.StaffError as exc:
            getattr(form, exc.field).errors.append(exc.message)
            db.session.rollback()
        else:
            db.session.commit()
            flash(_("Staff member added."))
            return redirect(url_for("auth.staff_list"))
    status = 400 if form.errors else 200
    return render_template("auth/staff.html", form=form, staff=services.list_staff(),
                           update_form=StaffUpdateForm), status


@bp.route("/staff/<id:staff_id>", methods=["POST"])
@requires("staff.manage")
def staff_update(staff_id: int):
    user = services.get_staff(staff_id)
    if user is None:
        return render_template("errors/404.html"), 404
    form = StaffUpdateForm()
    error = None
    if form.validate_on_submit():
        try:
            services.update_staff(user, role=form.role.data, active=form.active.data, actor=current_user)
        except services.StaffError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
    else:
        error = _("Please choose a role.")
    return render("auth/staff.html", "auth/_staff_row.html", member=user, error=error,
                  update_form=StaffUpdateForm,
                  form=StaffForm(), staff=services.list_staff()), (400 if error else 200)
