"""The follow-up workbench, a task and its record form, call recordings."""
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.core.access import requires
from app.core.errors import found_or_404
from app.followups import plans, recordings, services
from app.patients import services as patients
from tenants.db import db

bp = Blueprint("followups", __name__)


def due_count() -> int:
    """The nav count: my tasks due today or overdue."""
    try:
        return services.due_count(current_user.id)
    except Exception:  # the nav must never break a page
        db.session.rollback()
        return 0


@bp.route("/followups")
@requires("followups.work")
def workbench():
    bench = services.my_tasks(current_user.id)
    every = bench.overdue + bench.today + bench.upcoming
    return render_template("followups/workbench.html", bench=bench,
                           patients=patients.get_many(t.patient_id for t in every),
                           plan_names={p.id: p.name for p in plans.list_plans()})


@bp.route("/followups/overview")
@requires("followups.manage")
def overview():
    overdue, escalated = services.overdue_tasks(), services.escalated_tasks()
    return render_template("followups/overview.html", overdue=overdue, workload=services.workload(),
                           escalated=escalated,
                           patients=patients.get_many(t.patient_id for t in overdue + escalated),
                           staff=_staff_names())


def _staff_names() -> dict:
    return {u.id: u.name for u in staff.list_staff()}


def _render_task(task, *, data=None, errors=None, status=200, conflict=False):
    history = services.records_of(task.id)
    return render_template(
        "followups/task.html", task=task, patient=patients.get(task.patient_id),
        plan=plans.get(task.plan_id) if task.plan_id else None, enrolment=services.enrolment_of(task),
        history=history, recordings=recordings.of_records([r.id for r in history]),
        data=data or services.ContactData(version=str(task.version)), errors=errors or {}, conflict=conflict,
        staff=_staff_names(), measures=services.MEASURES), status


@bp.route("/followups/tasks/<id:task_id>", methods=["GET", "POST"])
@requires("followups.work")
def task_detail(task_id: int):
    task = found_or_404(services.get_task(task_id))
    if request.method == "GET":
        return _render_task(task)
    fields = {name: request.form.get(name, "") for name in services.ContactData.__dataclass_fields__}
    data = services.ContactData(**fields)
    upload = request.files.get("recording")
    try:
        record = services.record_contact(task, data, actor_id=current_user.id)
        if upload and upload.filename:
            recordings.attach(record, *recordings.read_upload(upload), actor_id=current_user.id)
        db.session.commit()
    except (services.TaskChanged, services.FollowupError, recordings.RecordingRefused) as exc:
        db.session.rollback()
        task = found_or_404(services.get_task(task_id))
        if isinstance(exc, services.TaskChanged):
            return _render_task(task, data=data, status=409, conflict=True)
        errors = exc.errors if isinstance(exc, services.FollowupError) else {"recording": str(exc)}
        return _render_task(task, data=data, errors=errors, status=422)
    flash(_("Follow-up recorded."))
    return redirect(url_for("followups.task_detail", task_id=task_id))


@bp.route("/followups/records/<id:record_id>/recordings", methods=["POST"])
@requires("followups.work")
def upload_recording(record_id: int):
    record = found_or_404(services.get_record(record_id))
    try:
        recordings.attach(record, *recordings.read_upload(request.files.get("recording")), actor_id=current_user.id)
        db.session.commit()
    except recordings.RecordingRefused as exc:
        db.session.rollback()
        return _render_task(services.get_task(record.task_id), errors={"recording": str(exc)}, status=422)
    flash(_("Recording attached."))
    return redirect(url_for("followups.task_detail", task_id=record.task_id))


@bp.route("/followups/recordings/<id:recording_id>")
@requires("followups.recordings")
def play_recording(recording_id: int):
    recording = found_or_404(recordings.get(recording_id))
    data, mime = recordings.play(recording)
    db.session.commit()
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/patients/<id:patient_id>/followups")
@requires("followups.work")
def patient_tasks(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    return render_template("followups/_patient_tasks.html", patient=patient,
                           tasks=services.tasks_of_patient(patient_id),
                           plan_names={p.id: p.name for p in plans.list_plans()})
