"""The clinic dashboard page, its figures (each its own request) and its exports."""
from flask import Blueprint, abort, render_template, request

from app.core import audit, exports, htmx
from app.core.access import requires
from app.dashboard import services
from tenants.db import db

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _range() -> services.Range:
    return services.choose_range(request.args.get("from"), request.args.get("to"))


@bp.route("")
@requires("dashboard.clinic")
def index():
    span = _range()
    return render_template("dashboard/index.html", **services.page_context(span))


@bp.route("/figures/<figure>")
@requires("dashboard.clinic")
def figure(figure: str):
    """One figure: the page loads it in place (htmx); without scripts its placeholder links here."""
    if figure not in services.KEYS:
        abort(404)
    span = _range()
    [chosen] = services.figures_of(span, (figure,))
    return htmx.render("dashboard/figure.html", "dashboard/_figure.html", figure=chosen, span=span)


@bp.route("/export")
@requires("dashboard.clinic")
def export():
    """One figure (``figure``) or all of them as a workbook; one figure may also be CSV."""
    span = _range()
    key = request.args.get("figure", "")
    fmt = exports.choose_format(request.args.get("format"))
    if (key and key not in services.KEYS) or fmt is None or (fmt == "csv" and not key):
        abort(400)
    chosen = services.figures_of(span, (key,) if key else services.KEYS)
    audit.record("dashboard_exported", chart=key or "all", format=fmt,
                 filters={"from": span.since.isoformat(), "to": span.until.isoformat()},
                 rows=sum(len(list(f.table.rows)) for f in chosen))
    db.session.commit()
    name = f"dashboard-{key or 'all'}-{span.since:%Y%m%d}-{span.until:%Y%m%d}"
    if fmt == "csv":
        return exports.csv_response(chosen[0].table, name)
    return exports.xlsx_response([f.table for f in chosen], name)
