"""The patient's released health reports in the portal, on a phone-sized
page. No page takes a patient id: the patient is the portal session's, and
a report id of anyone else, or not released, is a 404."""
from flask import Blueprint, abort, render_template
from flask_babel import get_locale

from app.core import audit, exports
from app.core.access import public
from app.portal import services as portal
from app.reports import content, services
from tenants.db import db

bp = Blueprint("portal_reports", __name__, url_prefix="/portal/reports")


@bp.route("")
@public
def index():
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    return render_template("reports/portal.html", patient=patient, reports=services.released_for(patient.id))


def _released(patient, health_report_id: int):
    report = next((r for r in services.released_for(patient.id) if r.id == health_report_id), None)
    if report is None:  # another patient's, not released, or none at all
        abort(404)
    return report


@bp.route("/<id:health_report_id>")
@public
def read(health_report_id: int):
    """The released report on a phone: the doctor's summary, each abnormal result in plain words, every
    result by group."""
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    report = _released(patient, health_report_id)
    locale = "zh_CN" if str(get_locale()).startswith("zh") else "en"
    shown = content.build(patient, report.exam_date, locale)
    audit.record("portal_report_viewed", patient_id=patient.id, actor_label=audit.PORTAL_ACTOR, report_id=report.id)
    page = render_template("reports/portal_read.html", patient=patient, report=report, r=shown)
    db.session.commit()
    return page


@bp.route("/<id:health_report_id>.pdf")
@public
def download(health_report_id: int):
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    report = _released(patient, health_report_id)
    data = services.read_file(report, by_patient=True)
    if data is None:
        abort(404)
    db.session.commit()
    return exports.file_response(data, report.file_name)
