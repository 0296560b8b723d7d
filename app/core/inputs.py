"""One guard for what no form field may hold, before any view reads the request.

A NUL character (PostgreSQL refuses it in text, and no person types it) and
U+FFFD (what Werkzeug puts where the request's bytes were not UTF-8: a browser
on our UTF-8 pages never sends such bytes) in a form field, a query parameter
or an upload's file name: the request is refused with 400 and a message that
says which field, before anything is read or stored. Field-level checks (the
forms' validators, the services' rules) handle everything else next to the
field. The lab API (its bodies are not forms) checks its own bodies.
"""
from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import escape

from app.core.htmx import wants_partial

_BAD = ("\x00", "\ufffd")


def _offending_field() -> str | None:
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if any(c in name or c in value for c in _BAD):
                return name
    for name, upload in request.files.items(multi=True):
        if any(c in (upload.filename or "") for c in _BAD):
            return name
    return None


def _guard():
    if request.path.startswith("/api/") or request.endpoint in (None, "static"):
        return None
    if request.method not in ("POST", "PUT", "PATCH") and not request.args:
        return None
    field = _offending_field()
    if field is None:
        return None
    reason = _("The field “%(field)s” holds a character that text cannot hold (a NUL byte or bytes that are "
               "not UTF-8). Please retype it.", field=field[:60].replace("\x00", "").replace("\ufffd", "?"))
    if wants_partial():
        return f'<p class="error" role="alert">{escape(reason)}</p>', 400
    return render_template("errors/400.html", reason=reason), 400


def register(app) -> None:
    app.before_request(_guard)
