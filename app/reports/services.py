"""Printing health reports and reading the printed ones."""
from datetime import date

from sqlalchemy import select

from app.core import audit, jobs, storage
from app.reports import content
from app.reports.models import HealthReport
from tenants.db import db

KIND = "health_report"
HANDLER = "app.reports.jobs.render_health_report"

exam_dates = content.exam_dates


class NoSuchExam(ValueError):
    """The patient has no results on that day."""


def start_print(patient, exam_date: date, *, requested_by: int | None, locale: str, signer: str = ""):
    """Queue the report of an exam the patient has; returns the job's run (committed)."""
    if exam_date not in exam_dates(patient.id):
        raise NoSuchExam(exam_date)
    return jobs.start(KIND, HANDLER, patient_id=patient.id, requested_by=requested_by,
                      exam_date=exam_date.isoformat(), locale=locale, signer=signer)


def printed_for(patient_id: int) -> list[HealthReport]:
    return list(db.session.scalars(select(HealthReport).where(HealthReport.patient_id == patient_id)
                                   .order_by(HealthReport.printed_at.desc(), HealthReport.id.desc())))


def get(report_id: int, patient_id: int) -> HealthReport | None:
    return db.session.scalar(select(HealthReport).where(HealthReport.id == report_id,
                                                        HealthReport.patient_id == patient_id))


def recent_runs(patient_id: int):
    return jobs.recent_runs(KIND, patient_id=patient_id)


def read_file(report: HealthReport) -> bytes | None:
    """The PDF, audited as a download (the caller commits); None when the file is gone."""
    if not storage.belongs_to(report.storage_key, report.tenant_id):
        return None
    store = storage.backend()
    if not store.exists(report.storage_key):
        return None
    audit.record("file_downloaded", patient_id=report.patient_id, kind=KIND, file=report.file_name)
    return store.read(report.storage_key)
