"""The patient's session: a key of its own in the signed session cookie,
apart from the staff sign-in, valid only on its clinic's host."""
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

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
    """Only a path on this host (no scheme, no //host)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def to_sign_in():
    return redirect(url_for("portal.sign_in", next=request.full_path.rstrip("?")))
