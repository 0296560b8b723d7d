"""The patient's "signed-in devices" page: where the account is signed in
now, ending the others."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.core.access import public
from app.portal import session
from tenants.db import db

bp = Blueprint("portal_sessions", __name__, url_prefix="/portal/sessions")


@bp.route("")
@public
def index():
    account = session.current_account()
    if account is None:
        return session.to_sign_in()
    return render_template("portal/sessions.html", sessions=session.live(account), current=session.current_id())


@bp.route("/<id:session_id>/end", methods=["POST"])
@public
def end(session_id: int):
    account = session.current_account()
    if account is None:
        abort(403)
    if not session.end_other(account, session_id):
        abort(404)
    db.session.commit()
    flash(_("That device is signed out."))
    return redirect(url_for("portal_sessions.index"))
