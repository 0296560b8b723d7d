"""Releasing an exam day's results to the patient's portal (a doctor), and the clinic's release setting."""
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.patients import services as patients
from app.records import releases
from app.records.views import bp
from tenants.db import db


@bp.route("/patients/<id:patient_id>/results/release", methods=["POST"])
@requires("results.release")
def release_results(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    try:
        day = date.fromisoformat((request.form.get("day") or "").strip()[:10])
    except ValueError:
        day = None
    if day is None or day not in {d for d, _abnormal in releases.waiting(patient.id)}:
        flash(_("Those results are released already, or there are none on that day."))
    elif releases.release(patient, day, mode="doctor", actor_id=current_user.id):
        db.session.commit()
        flash(_("The results of %(date)s are in the patient's portal now; they were told they are ready.",
                date=day.isoformat()))
    return redirect(url_for("records.patient_records", patient_id=patient.id) + "#release")


@bp.route("/results/release-settings", methods=["GET", "POST"])
@requires("alerts.settings")
def release_settings():
    row = releases.settings()
    typed = str(row.auto_release_hours) if row is not None and row.auto_release_hours else ""
    error = ""
    if request.method == "POST":
        typed = (request.form.get("auto_release_hours") or "").strip()[:10]
        try:
            releases.save_settings(typed)
        except FieldErrors as exc:
            db.session.rollback()
            error = exc.errors["auto_release_hours"]
        else:
            db.session.commit()
            flash(_("Release setting saved."))
            return redirect(url_for("records.release_settings"))
    return render_template("records/release_settings.html", typed=typed, error=error), 400 if error else 200
