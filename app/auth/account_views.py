"""A staff member's own account: password, two-factor sign-in, and the
sessions signed in now ("my sessions"), where they end the others."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from app.auth import services, two_factor
from app.auth.forms import CodeForm, ConfirmPersonForm, PasswordChangeForm
from app.core.access import requires
from app.core.validators import required
from tenants.db import db

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(password_form=None, confirm_form=None, status=200):
    return render_template(
        "auth/account.html", password_form=password_form or PasswordChangeForm(formdata=None),
        confirm_form=confirm_form or ConfirmPersonForm(formdata=None),
        two_factor_on=two_factor.enabled(current_user), two_factor_required=two_factor.required(current_user),
        codes_left=two_factor.recovery_codes_left(current_user)), status


@bp.route("")
@requires("account.self")
def index():
    return _page()


@bp.route("/password", methods=["POST"])
@requires("account.self")
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, required(form.current_password), required(form.new_password),
                                     required(form.confirm), ip=request.remote_addr or "",
                                     user_agent=request.user_agent.string)
        except services.StaffError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            login_user(current_user._get_current_object())  # the cookie names this browser's new session
            flash(_("Your password is changed. Your other sessions have ended."))
            return redirect(url_for("account.index"))
    return _page(password_form=form, status=400)


def _setup_page(form, secret: str, status: int = 200):
    return render_template("auth/two_factor_setup.html", form=form, action=url_for("account.two_factor_confirm"),
                           required=False, **two_factor.setup_page(current_user, secret, g.tenant.name)), status


@bp.route("/two-factor/start", methods=["POST"])
@requires("account.self")
def two_factor_start():
    try:
        secret = two_factor.begin(current_user)
    except two_factor.TwoFactorError as exc:
        db.session.rollback()
        flash(exc.message)
        return redirect(url_for("account.index"))
    db.session.commit()
    return _setup_page(CodeForm(formdata=None), secret)


@bp.route("/two-factor/confirm", methods=["POST"])
@requires("account.self")
def two_factor_confirm():
    secret = two_factor.pending_secret(current_user)
    if secret is None:
        return redirect(url_for("account.index"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm(current_user, required(form.code))
        except two_factor.TwoFactorError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, next=url_for("account.index"))
    return _setup_page(form, secret, 400)


@bp.route("/two-factor/disable", methods=["POST"])
@requires("account.self")
def two_factor_disable():
    form = ConfirmPersonForm()
    if form.validate_on_submit():
        try:
            two_factor.disable(current_user, password=required(form.password), code=required(form.code))
        except two_factor.TwoFactorError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            db.session.commit()
            flash(_("Two-factor sign-in is off."))
            return redirect(url_for("account.index"))
    return _page(confirm_form=form, status=400)


@bp.route("/two-factor/recovery-codes", methods=["POST"])
@requires("account.self")
def recovery_codes():
    form = ConfirmPersonForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.renew_recovery_codes(current_user, password=required(form.password),
                                                    code=required(form.code))
        except two_factor.TwoFactorError as exc:
            db.session.rollback()
            exc.show_on(form)
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, next=url_for("account.index"))
    return _page(confirm_form=form, status=400)


@bp.route("/sessions")
@requires("account.self")
def sessions():
    return render_template("auth/sessions.html", sessions=services.live_sessions(current_user))


@bp.route("/sessions/<id:session_id>/end", methods=["POST"])
@requires("account.self")
def end_session(session_id: int):
    if not services.end_session(current_user, session_id):
        abort(404)
    db.session.commit()
    flash(_("That session has ended."))
    return redirect(url_for("account.sessions"))


@bp.route("/sessions/end-others", methods=["POST"])
@requires("account.self")
def end_other_sessions():
    ended = services.end_other_sessions(current_user)
    db.session.commit()
    flash(_("Your other sessions have ended (%(count)d).", count=ended))
    return redirect(url_for("account.sessions"))
