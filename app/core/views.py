"""Views shared by every capability: language, job progress, downloads."""
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session
from flask_login import current_user

from app.core import audit, exports, jobs, storage
from app.core.access import public, requires
from app.core.errors import found_or_404
from app.core.redirects import back_to_referrer
from tenants.db import db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz():
    """Load balancers' probe; also the bare route the benchmark compares with."""
    return Response("ok", mimetype="text/plain")


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(back_to_referrer(request.referrer, request.host))


@bp.route("/jobs/<id:run_id>")
@requires("jobs.view")
def job_status(run_id: int):
    return render_template("core/_job_status.html", run=found_or_404(jobs.get_run(run_id)))


@bp.route("/jobs/<id:run_id>/download")
@requires("jobs.view")
def job_download(run_id: int):
    run = found_or_404(jobs.get_run(run_id))
    permission = jobs.DOWNLOAD_PERMISSION.get(run.kind)
    if permission is None or not current_user.can(permission):
        abort(403)
    if run.status != "finished" or not storage.belongs_to(run.result_key, run.tenant_id):
        abort(404)
    store = storage.backend()
    if not store.exists(run.result_key):
        abort(404)
    audit.record("file_downloaded", patient_id=run.patient_id, kind=run.kind, file=run.result_name)
    db.session.commit()
    mimetype = "application/zip" if run.result_name.endswith(".zip") else "application/pdf"
    return exports.file_response(store.read(run.result_key), run.result_name, mimetype)


@bp.app_context_processor
def _navigation():
    return {"nav_user": current_user}
