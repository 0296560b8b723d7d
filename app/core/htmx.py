"""The full page includes the partial; an htmx request gets only the partial."""
from flask import render_template
from htmx_flask import request


def wants_partial() -> bool:
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, partial: str, **context) -> str:
    return render_template(partial if wants_partial() else page, **context)
