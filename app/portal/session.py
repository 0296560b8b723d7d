"""The patient's session: a key of its own in the signed session cookie,
apart from the staff sign-in, valid only on its clinic's host."""
from flask import g, redirect, request, session, url_for

from app.core.redirects import safe_target
from app.portal import services

KEY = "portal_account"


def current_account():
    if g.get("tenant") is None:
        return None
    if "portal_account" not in g:
        g.portal_account = services.account_from_token(session.get(KEY))
    return g.portal_account


def start(account) -> None:
    session[KEY] = services.session_token(account)
    session.permanent = False
    g.portal_account = account


def end() -> None:
    session.pop(KEY, None)
    g.portal_account = None


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this host (app.core.redirects, the one gate for request-named redirects)."""
    return safe_target(target, default)


def to_sign_in():
    return redirect(url_for("portal.sign_in", next=request.full_path.rstrip("?")))
