"""Staff pages of batch printing: choose whose reports to print and how, follow the job, resume a batch whose
worker died."""
from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from app.booking import services as booking
from app.core import clock
from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.reports import batches, styles
from app.tagging import services as tagging
from tenants.db import db

bp = Blueprint("batches", __name__, url_prefix="/reports/batches")
FIELDS = ("kind", "day", "tag", "package_id", "since", "until", "output", "template")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _index(*, errors: dict | None = None, typed: dict | None = None, status: int = 200):
    rows = batches.recent()
    return render_template("reports/batches.html", rows=rows, errors=errors or {},
                           typed=typed or {"kind": "day", "day": clock.today().isoformat(), "output": "merged"},
                           tags=tagging.all_tags(), packages=booking.list_packages(active_only=False),
                           templates={key: styles.template_name(key) for key in styles.templates()}), status


@bp.route("")
@requires("reports.print")
def index():
    return _index()


@bp.route("", methods=["POST"])
@requires("reports.print")
def create():
    typed = {key: (request.form.get(key) or "").strip()[:80] for key in FIELDS}
    try:
        title, selection, items = batches.choose(
            typed["kind"], day=_day(typed["day"]), tag=typed["tag"],
            package_id=int(typed["package_id"]) if typed["package_id"].isdigit() else None,
            since=_day(typed["since"]), until=_day(typed["until"]))
        batch, _run = batches.create(title, selection, items, output=typed["output"], requested_by=current_user.id,
                                     template_key=typed["template"] or styles.DEFAULT_TEMPLATE,
                                     locale="zh_CN" if str(get_locale()).startswith("zh") else "en")
    except FieldErrors as exc:
        db.session.rollback()
        return _index(errors=exc.errors, typed=typed, status=400)
    return redirect(url_for("batches.batch", batch_id=batch.id))


@bp.route("/<id:batch_id>")
@requires("reports.print")
def batch(batch_id: int):
    found = found_or_404(batches.get(batch_id))
    run = batches.latest_run(found)
    return render_template("reports/batch.html", batch=found, run=run,
                           resumable=batches.resumable(found, run, clock.now()))


@bp.route("/<id:batch_id>/resume", methods=["POST"])
@requires("reports.print")
def resume(batch_id: int):
    found = found_or_404(batches.get(batch_id))
    if batches.resumable(found, batches.latest_run(found), clock.now()):
        batches.resume(found, requested_by=current_user.id)
    return redirect(url_for("batches.batch", batch_id=found.id))
