"""Signing in (password, then a code where the account has a second factor
or its role requires one), forgotten passwords, signing out, and the staff
page. Between the password and the code the signed cookie holds only who is
half-way (five minutes at most); a session is opened once both passed."""

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import labels, resets, services, throttle, two_factor
from app.auth.forms import CodeForm, ForgotForm, LoginForm, NewPasswordForm, StaffForm, StaffUpdateForm
from app.clinic import services as clinic_profile
from app.core.access import public, requires
from app.core.clock import utcnow
from app.core.htmx import render
from app.core.redirects import safe_target
from app.core.validators import required
from app.notifications import services as notifications
from tenants.db import db

bp = Blueprint("auth", __name__)

PENDING = "pending_sign_in"
PENDING_SECONDS = 300


def _safe_next(target: str | None) -> str:
    return safe_target(target, url_for("home.dashboard"))


def _address() -> str:
    return request.remote_addr or ""


def refusal(verdict: throttle.Verdict) -> str:
    """What a throttled try is told (the same for every email)."""
    if verdict.reason == "address":
        return _("Too many failed sign-ins from your network. Please try again in %(minutes)d minutes.",
                 minutes=max(1, -(-verdict.wait_seconds // 60)))
    return _("Too many failed sign-ins with this email. Please wait %(seconds)d seconds before trying again, "
             "or ask an admin to clear the delay.", seconds=verdict.wait_seconds)


def complete_sign_in(user) -> None:
    """A fresh cookie (nothing carries over but the language) naming a new
    server-side session."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    services.start_session(user, ip=_address(), user_agent=request.user_agent.string)
    login_user(user)


def _pending():
    """(user, pending) of a sign-in waiting for its second step, or (None, {})."""
    pending = session.get(PENDING) or {}
    fresh = utcnow().timestamp() - pending.get("since", 0) <= PENDING_SECONDS
    if not pending or pending.get("tenant") != g.tenant.id or not fresh:
        session.pop(PENDING, None)
        return None, {}
    user = services.get_staff(pending["user"])
    return (user, pending) if user is not None and user.active else (None, {})


def _again():
    flash(_("Please sign in again."))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        result = services.authenticate(required(form.email), required(form.password), address=_address())
        if result.refused:
            error, status = refusal(result.refused), 429
        elif result.user is None:
            error, status = _("Email or password is not correct."), 400
        else:
            target = _safe_next(request.args.get("next"))
            if not result.second_step:
                complete_sign_in(result.user)
                return redirect(target)
            db.session.commit()  # a password hash brought up to date
            session.pop(PENDING, None)
            session[PENDING] = {"user": result.user.id, "tenant": g.tenant.id, "since": utcnow().timestamp(),
                                "step": result.second_step, "next": target}
            return redirect(url_for("auth.two_factor_setup" if result.second_step == "setup" else "auth.sign_in_code"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/login/two-factor", methods=["GET", "POST"])
@public
def sign_in_code():
    user, pending = _pending()
    if user is None or pending["step"] != "code":
        return _again()
    form = CodeForm()
    error, status = None, 200
    if form.validate_on_submit():
        result = services.second_step(user, required(form.code), address=_address())
        if result.refused:
            error, status = refusal(result.refused), 429
        elif result.user is None:
            error, status = _("This code is not right. Enter the six digits your app shows now, "
                              "or one of your recovery codes."), 400
        else:
            complete_sign_in(user)
            return redirect(_safe_next(pending["next"]))
    elif request.method == "POST":
        status = 400
    return render_template("auth/two_factor.html", form=form, error=error), status


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
@public
def two_factor_setup():
    """The role requires a second factor and the person has none yet: set
    it up now, then the sign-in completes."""
    user, pending = _pending()
    if user is None or pending["step"] != "setup":
        return _again()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm(user, required(form.code))
        except two_factor.TwoFactorError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            complete_sign_in(user)
            return render_template("auth/recovery_codes.html", codes=codes, next=pending["next"])
    secret = two_factor.pending_secret(user) or two_factor.begin(user)
    db.session.commit()
    return render_template("auth/two_factor_setup.html", form=form, action=url_for("auth.two_factor_setup"),
                           required=True, **two_factor.setup_page(user, secret, g.tenant.name)), \
        (400 if form.errors else 200)


@bp.route("/login/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    """The same answer whether or not the email has an account."""
    form = ForgotForm()
    error, sent, status = None, False, 200
    if form.validate_on_submit():
        email = services.normalise_email(required(form.email))
        verdict = throttle.claim("password-reset:" + email, _address())
        if not verdict.allowed:
            error, status = refusal(verdict), 429
        else:
            link = resets.request_link(email)
            if link is not None:
                recipient = notifications.staff_recipient(link.user)
                recipient.locale = str(get_locale())
                try:
                    notifications.notify("staff_password_reset", recipient, {
                        "staff_name": link.user.name, "minutes": link.minutes, "clinic": clinic_profile.name(),
                        "url": url_for("auth.reset_password", reset_token=link.token, _external=True),
                    }, idempotency_key=f"password-reset:{link.token[:24]}", channels=("email",))
                except notifications.NotifyError:
                    current_app.logger.warning("no reset email for staff %s", link.user.id, exc_info=True)
            db.session.commit()
            sent = True
    elif request.method == "POST":
        status = 400
    return render_template("auth/forgot.html", form=form, sent=sent, error=error), status


@bp.route("/login/reset/<reset_token>", methods=["GET", "POST"])
@public
def reset_password(reset_token: str):
    form: NewPasswordForm | None = NewPasswordForm()
    if resets.valid(reset_token) is None:
        form = None
    elif form is not None and form.validate_on_submit():
        try:
            user = resets.complete(reset_token, required(form.new_password), required(form.confirm))
        except services.StaffError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            if user is not None:
                db.session.commit()
                flash(_("Your new password is set. Please sign in with it."))
                return redirect(url_for("auth.login"))
            form = None  # used up by another request meanwhile
    response = current_app.make_response((render_template("auth/reset.html", form=form),
                                          400 if form is None or form.errors else 200))
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token stays out of other sites' logs
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/logout", methods=["POST"])
@requires("dashboard.view")
def logout():
    services.sign_out(current_user)
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))


# ------------------------------------------------------------------ staff page

def _staff_form(**kwargs) -> StaffForm:
    form = StaffForm(**kwargs)
    form.role.choices = [(role, labels.ROLE[role]) for role in services.grantable_roles(current_user)]
    return form


def _staff_page(form: StaffForm, **context):
    """The staff page (an htmx request gets the one row in ``member``)."""
    staff = services.list_staff()
    return render("auth/staff.html", "auth/_staff_row.html", form=form, staff=staff, update_form=StaffUpdateForm,
                  roles=services.grantable_roles(current_user), delays=services.sign_in_delays(staff), **context)


@bp.route("/staff", methods=["GET", "POST"])
@requires("staff.manage")
def staff_list():
    form = _staff_form()
    if form.validate_on_submit():
        try:
            services.add_staff(required(form.email), required(form.name), form.role.data or "",
                               required(form.password), actor=current_user)
        except services.StaffError as exc:
            exc.show_on(form)
            db.session.rollback()
        else:
            db.session.commit()
            flash(_("Staff member added."))
            return redirect(url_for("auth.staff_list"))
    return _staff_page(form), (400 if form.errors else 200)


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
            services.update_staff(user, role=form.role.data or "", active=form.active.data, actor=current_user)
        except services.StaffError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
    else:
        error = _("Please choose a role.")
    return _staff_page(_staff_form(formdata=None), member=user, error=error), (400 if error else 200)


@bp.route("/staff/<id:staff_id>/unlock", methods=["POST"])
@requires("staff.manage")
def staff_unlock(staff_id: int):
    """Clear the sign-in delay that failed tries put on an account."""
    user = services.get_staff(staff_id)
    if user is None:
        abort(404)
    services.clear_sign_in_delay(user, actor=current_user)
    db.session.commit()
    flash(_("%(name)s can sign in again at once.", name=user.name))
    return redirect(url_for("auth.staff_list"))
