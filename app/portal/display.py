"""How the portal's pages are shown to this browser: the larger-text mode
for patients who read small print with difficulty. The choice lives in the
signed session cookie (like the language), apart from the sign-in, so it
holds before signing in, after signing out and across the clinic's portal
pages; the staff pages ignore it."""
from flask import request, session

LARGE_TEXT = "portal_large_text"
SIZES = ("normal", "large")
# the portal's pages: the shop, sign-in and the patient's own pages, and the unsubscribe page of a message
PORTAL_BLUEPRINTS = frozenset({"shop", "portal", "portal_sessions", "portal_questionnaires", "questionnaire_links"})
PORTAL_ENDPOINTS = frozenset({"notifications.unsubscribe"})


def portal_page() -> bool:
    return request.blueprint in PORTAL_BLUEPRINTS or request.endpoint in PORTAL_ENDPOINTS


def large_text() -> bool:
    """Whether this page is shown with the larger text (a class on <html>)."""
    return portal_page() and session.get(LARGE_TEXT) is True


def choose(size: str) -> None:
    if size == "large":
        session[LARGE_TEXT] = True
    else:
        session.pop(LARGE_TEXT, None)
