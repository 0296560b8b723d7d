"""Printing health reports, reading the printed ones and releasing them to the patient."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit, jobs, storage
from app.patients import services as patients
from app.records import services as records
from app.reports import content, styles
from app.reports.models import HealthReport
from tenants.db import db
from tenants.models import utcnow

KIND = "health_report"
HANDLER = "app.reports.jobs.render_health_report"

exam_dates = content.exam_dates


class NoSuchExam(ValueError):
    """The patient has no results on that day."""


def start_print(patient, exam_date: date, *, requested_by: int | None, locale: str, signer: str = "",
                template_key: str = styles.DEFAULT_TEMPLATE):
    """Queue the report of an exam the patient has; returns the job's run (committed)."""
    if exam_date not in exam_dates(patient.id):
        raise NoSuchExam(exam_date)
    if template_key not in styles.templates():
        raise NoSuchExam(template_key)
    return jobs.start(KIND, HANDLER, patient_id=patient.id, requested_by=requested_by,
                      exam_date=exam_date.isoformat(), locale=locale, signer=signer, template_key=template_key)


def printed_for(patient_id: int) -> list[HealthReport]:
    return list(db.session.scalars(select(HealthReport).where(HealthReport.patient_id == patient_id)
                                   .order_by(HealthReport.printed_at.desc(), HealthReport.id.desc())))


def get(report_id: int, patient_id: int, *, for_update: bool = False) -> HealthReport | None:
    query = select(HealthReport).where(HealthReport.id == report_id, HealthReport.patient_id == patient_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def released_for(patient_id: int) -> list[HealthReport]:
    """What the patient's portal shows: the released reports, newest exam first."""
    return list(db.session.scalars(select(HealthReport).where(
        HealthReport.patient_id == patient_id, HealthReport.released_at.is_not(None))
        .order_by(HealthReport.exam_date.desc(), HealthReport.released_at.desc())))


def release(report: HealthReport, *, actor_id: int | None) -> bool:
    """Show the report in the patient's portal and tell them (no health content in the message); False when
    it was released already: a second release changes nothing and sends nothing. The caller commits."""
    report = get(report.id, report.patient_id, for_update=True) or report
    if report.released_at is not None:
        return False
    report.released_at, report.released_by = utcnow(), actor_id
    audit.record("health_report_released", patient_id=report.patient_id, report_id=report.id,
                 exam_date=report.exam_date.isoformat())
    patient = patients.get(report.patient_id)
    if patient is None:  # a report goes with its patient (ON DELETE CASCADE)
        raise LookupError(f"health report {report.id}: patient {report.patient_id} not found")
    # the report's results go with it; the report's own message says it is ready
    records.releases.release(patient, report.exam_date, mode="report", actor_id=actor_id, tell=False)
    _tell_patient(report, patient)
    return True


def _tell_patient(report: HealthReport, patient) -> None:
    records.releases.tell_ready(patient, lambda: _("exam report of %(date)s", date=report.exam_date.isoformat()),
                                "portal_reports.index", key=f"health_report:{report.id}:released")


def recent_runs(patient_id: int):
    return jobs.recent_runs(KIND, patient_id=patient_id)


def read_file(report: HealthReport, *, by_patient: bool = False) -> bytes | None:
    """The PDF, audited as a download by staff or by the patient in the portal (the caller commits); None
    when the file is gone."""
    if not storage.belongs_to(report.storage_key, report.tenant_id):
        return None
    store = storage.backend()
    if not store.exists(report.storage_key):
        return None
    if by_patient:
        audit.record("portal_report_downloaded", patient_id=report.patient_id, actor_label=audit.PORTAL_ACTOR,
                     report_id=report.id, file=report.file_name)
    else:
        audit.record("file_downloaded", patient_id=report.patient_id, kind=KIND, file=report.file_name)
    return store.read(report.storage_key)
