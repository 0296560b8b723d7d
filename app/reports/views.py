"""Staff pages: a patient's exams with a print button each, the reports
printed so far and their downloads."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.core import audit, exports
from app.core.access import requires
from app.core.errors import found_or_404
from app.core.htmx import wants_partial
from app.patients import services as patients
from app.reports import services, styles
from tenants.db import db

bp = Blueprint("reports", __name__)


def _page(patient, *, error: str = "", chosen: str = "", status: int = 200):
    return render_template("reports/patient.html", patient=patient, exams=services.exam_dates(patient.id),
                           templates={key: styles.template_name(key) for key in styles.templates()},
                           printed=services.printed_for(patient.id), runs=services.recent_runs(patient.id),
                           error=error, chosen=chosen), status


@bp.route("/patients/<id:patient_id>/reports")
@requires("reports.print")
def patient_reports(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    audit.record_opened(patient.id)
    db.session.commit()
    return _page(patient)


@bp.route("/patients/<id:patient_id>/reports", methods=["POST"])
@requires("reports.print")
def print_report(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    typed = (request.form.get("exam_date") or "").strip()[:20]
    try:
        day = date.fromisoformat(typed)
        run = services.start_print(patient, day, requested_by=current_user.id,
                                   template_key=(request.form.get("template") or styles.DEFAULT_TEMPLATE)[:40],
                                   locale="zh_CN" if str(get_locale()).startswith("zh") else "en",
                                   signer=current_user.name if current_user.role == "doctor" else "")
    except ValueError:
        error = _("Choose one of the exam dates listed: %(patient)s has no results on “%(date)s”.",
                  patient=patient.name, date=typed)
        if wants_partial():
            return render_template("reports/_print_error.html", error=error), 400
        return _page(patient, error=error, chosen=typed, status=400)
    if wants_partial():
        return render_template("core/_job_status.html", run=run), 202
    flash(_("The report of %(date)s is being printed.", date=day.isoformat()))
    return redirect(url_for("reports.patient_reports", patient_id=patient.id))


@bp.route("/patients/<id:patient_id>/reports/<id:health_report_id>/release", methods=["POST"])
@requires("reports.release")
def release(patient_id: int, health_report_id: int):
    report = found_or_404(services.get(health_report_id, patient_id))
    if services.release(report, actor_id=current_user.id):
        db.session.commit()
        flash(_("The report of %(date)s is in the patient's portal now; they were told it is ready.",
                date=report.exam_date.isoformat()))
    return redirect(url_for("reports.patient_reports", patient_id=patient_id))


@bp.route("/patients/<id:patient_id>/reports/<id:health_report_id>/download")
@requires("reports.print")
def download(patient_id: int, health_report_id: int):
    report = found_or_404(services.get(health_report_id, patient_id))
    data = services.read_file(report)
    if data is None:
        abort(404)
    db.session.commit()
    return exports.file_response(data, report.file_name)
