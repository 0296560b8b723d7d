"""The patient's session: a server-side session (app/core/sessions.py,
kind "portal") whose token is a key of its own in the signed session cookie,
apart from the staff sign-in, and found only in its clinic. Signing out ends
it on the server; it also ends after idling (15 minutes unless the clinic
says otherwise) and after 12 hours."""

from flask import g, redirect, request, session, url_for

from app.core import sessions
from app.core.redirects import safe_target
from app.portal import services

KEY = "portal_account"
KIND = "portal"


def current_account():
    if g.get("tenant") is None:
        return None
    if "portal_account" not in g:
        record = sessions.load(KIND, session.get(KEY))
        g.portal_account = services.get_account(record.subject_id) if record is not None else None
        g.portal_session_id = record.id if g.portal_account is not None and record is not None else 0
    return g.portal_account


def live(account) -> list:
    """The account's sessions that still work (this browser's is ``current_id()``)."""
    return sessions.live(KIND, account.id)


def current_id() -> int:
    current_account()
    return g.get("portal_session_id", 0)


def end_other(account, session_id: int) -> bool:
    """End another session of the account (the caller commits); False if it is
    this one, or not the account's, or no longer live."""
    return session_id != current_id() and sessions.end_one(KIND, account.id, session_id)


def start(account) -> None:
    """Open the account's session for this browser (the caller commits)."""
    session[KEY] = sessions.start(KIND, account.id, ip=request.remote_addr or "",
                                  user_agent=request.user_agent.string)
    session.permanent = False
    g.portal_account = account
    g.portal_session_id = 0


def end() -> None:
    """End this browser's session on the server (the caller commits)."""
    sessions.end(KIND, session.pop(KEY, None), "signed_out")
    g.portal_account = None


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this host (app.core.redirects, the one gate for request-named redirects)."""
    return safe_target(target, default)


def to_sign_in():
    return redirect(url_for("portal.sign_in", next=request.full_path.rstrip("?")))
