"""Error pages that say nothing of any tenant beyond the one on screen."""
import logging

from flask import abort, current_app, has_request_context, render_template, request
from flask_wtf.csrf import CSRFError

from tenants.db import db

log = logging.getLogger(__name__)


class FieldErrors(ValueError):
    """Bad input that a form shows next to its fields: ``errors`` maps a
    field name to its message (a name that is no field of the form is shown
    above it). Every capability's input errors are of this kind."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def show_on(self, form) -> list[str]:
        """Put each message on its field of a WTForms form; return the rest."""
        rest = []
        for name, message in self.errors.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, message]
            else:
                rest.append(message)
        return rest


def found_or_404(found):
    """What a look-up found, or a 404 page: the id is not of this clinic, or not at all."""
    if found is None:
        abort(404)
    return found


def answer_errors_in(app, prefix: str, answer) -> None:
    """Requests under ``prefix`` (an API) get every error page from ``answer(status, message)``
    in their own format (an HL7 ACK, a FHIR OperationOutcome), never an HTML page."""
    app.extensions.setdefault("careloop_error_formats", []).append((prefix, answer))


def _own_format(status: int, message: str):
    if not has_request_context():
        return None
    for prefix, answer in current_app.extensions.get("careloop_error_formats", []):
        if request.path.startswith(prefix):
            return answer(status, message)
    return None


def _page(template: str, status: int, **context):
    return _own_format(status, context.pop("message", "")) or (render_template(template, **context), status)


_BARE_500 = ("<!doctype html><meta charset=utf-8><title>Something went wrong</title>"
             "<h1>Something went wrong · 出错了</h1><p>The error was logged. Please try again in a moment.</p>")


def register(app) -> None:
    @app.errorhandler(404)
    def not_found(_exc):
        return _page("errors/404.html", 404, message="not found")

    @app.errorhandler(403)
    def forbidden(_exc):
        return _page("errors/403.html", 403, message="forbidden")

    @app.errorhandler(405)
    def not_allowed(exc):
        return _own_format(405, "method not allowed") or exc

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        return _page("errors/400.html", 400, reason=None, message=exc.description)

    @app.errorhandler(400)
    def bad_request(exc):
        return _page("errors/400.html", 400, reason=None, message=getattr(exc, "description", "bad request"))

    @app.errorhandler(413)
    def too_large(_exc):
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return _page("errors/400.html", 413, reason=None,
                     message=f"the request body is larger than {limit // 2**20} MB")

    @app.errorhandler(500)
    def server_error(_exc):
        """Robust after any failure: the failed transaction is rolled back before the page (which
        reads the database for the top bar) renders, and a page that still fails is a bare one."""
        try:
            db.session.rollback()
        except Exception:
            log.exception("rollback before the error page failed")
        try:
            return _page("errors/500.html", 500, message="internal error: the error was logged")
        except Exception:
            log.exception("the error page failed")
            try:
                db.session.rollback()
            except Exception:
                pass
            return _BARE_500, 500, {"Content-Type": "text/html; charset=utf-8"}
