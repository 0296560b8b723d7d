"""The follow-up workbench, a task and its record form, call recordings."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import requires
from app.followups import labels, plans, recordings, services
from tenants.db import db

bp = Blueprint("followups", __name__)


def due_count() -> int:
    """The nav count: my tasks due today or overdue."""
    try:
        return services.due_count(current_user.id)
    except Exception:  # the nav must never break a page
        db.session.rollback()
        return 0


def _patients(ids) -> dict:
    from app.patients import services as patients

    return {pid: patients.get(pid) for pid in set(ids)}


def _task_or_404(task_id: int):
    task = services.get_task(task_id)
    if task is None:
        abort(404)
    return task


@bp.route("/followups")
@requires("followups.work")
def workbench():
    bench = services.my_tasks(current_user.id)
    every = bench.overdue + bench.today + bench.upcoming
    return render_template("followups/workbench.html", bench=bench, patients=_patients(t.patient_id for t in every),
                           plan_names={p.id: p.name for p in plans.list_plans()}, labels=labels)


@bp.route("/followups/overview")
@requires("followups.manage")
def overview():
    overdue = services.overdue_tasks()
    return render_template("followups/overview.html", overdue=overdue, workload=services.workload(),
                           escalated=services.escalated_tasks(), labels=labels,
                           patients=_patients(t.patient_id for t in overdue + services.escalated_tasks()),
                           staff=_staff_names())


def _staff_names() -> dict:
    from sqlalchemy import select

    from app.auth.models import StaffUser

    return {u.id: u.name for u in db.session.scalars(select(StaffUser))}


def _render_task(task, *, data=None, errors=None, status=200, conflict=False):
    history = services.records_of(task.id)
    return render_template(
        "followups/task.html", task=task, patient=_patients([task.patient_id])[task.patient_id],
        plan=plans.get(task.plan_id) if task.plan_id else None, enrolment=services.enrolment_of(task),
        history=history, recordings=recordings.of_records([r.id for r in history]), labels=labels,
        data=data or services.ContactData(version=str(task.version)), errors=errors or {}, conflict=conflict,
        staff=_staff_names(), measures=services.MEASURES), status


@bp.route("/followups/tasks/<id:task_id>", methods=["GET", "POST"])
@requires("followups.work")
def task_detail(task_id: int):
    task = _task_or_404(task_id)
    if request.method == "GET":
        return _render_task(task)
    fields = {name: request.form.get(name, "") for name in services.ContactData.__dataclass_fields__}
    data = services.ContactData(**fields)
    upload = request.files.get("recording")
    try:
        record = services.record_contact(task, data, actor_id=current_user.id)
        if upload and upload.filename:
            recordings.attach(record, upload.read(recordings.max_bytes() + 1), upload.filename,
                              actor_id=current_user.id)
        db.session.commit()
    except services.TaskChanged:
        db.session.rollback()
        task = _task_or_404(task_id)
        return _render_task(task, data=data, status=409, conflict=True)
    except services.FollowupError as exc:
        db.session.rollback()
        return _render_task(_task_or_404(task_id), data=data, errors=exc.errors, status=422)
    except recordings.RecordingRefused as exc:
        db.session.rollback()
        return _render_task(_task_or_404(task_id), data=data, errors={"recording": str(exc)}, status=422)
    flash(_("Follow-up recorded."))
    return redirect(url_for("followups.task_detail", task_id=task_id))


@bp.route("/followups/records/<id:record_id>/recordings", methods=["POST"])
@requires("followups.work")
def upload_recording(record_id: int):
    record = services.get_record(record_id)
    if record is None:
        abort(404)
    upload = request.files.get("recording")
    try:
        recordings.attach(record, upload.read(recordings.max_bytes() + 1) if upload else b"",
                          upload.filename if upload else "", actor_id=current_user.id)
        db.session.commit()
    except recordings.RecordingRefused as exc:
        db.session.rollback()
        return _render_task(services.get_task(record.task_id), errors={"recording": str(exc)}, status=422)
    flash(_("Recording attached."))
    return redirect(url_for("followups.task_detail", task_id=record.task_id))


@bp.route("/followups/recordings/<id:recording_id>")
@requires("followups.recordings")
def play_recording(recording_id: int):
    recording = recordings.get(recording_id)
    if recording is None:
        abort(404)
    data, mime = recordings.play(recording)
    db.session.commit()
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/patients/<id:patient_id>/followups")
@requires("followups.work")
def patient_tasks(patient_id: int):
    from app.patients import services as patients

    patient = patients.get(patient_id)
    if patient is None:
        abort(404)
    return render_template("followups/_patient_tasks.html", patient=patient,
                           tasks=services.tasks_of_patient(patient_id), labels=labels,
                           plan_names={p.id: p.name for p in plans.list_plans()})
