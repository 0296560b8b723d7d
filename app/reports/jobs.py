"""RQ entry points of the reports capability."""
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from app.core import audit, clock, storage
from app.core.pdf import css_string, page_counter, render_document
from app.patients import services as patients
from app.reports import content, printing
from app.reports.models import HealthReport
from tenants.db import db

COLOUR = "#1b7a6e"  # the clinic's colour until clinics choose their own


def render_health_report(progress, *, patient_id: int, exam_date: str, locale: str = "zh_CN",
                         signer: str = "") -> dict:
    """Print the report of the patient's exam on ``exam_date`` (a clinic day) and keep it."""
    patient = patients.get(patient_id)
    if patient is None:
        raise LookupError("patient not found")
    day = date.fromisoformat(exam_date)
    progress(15, "gathering results")
    with force_locale(locale):
        report = content.build(patient, day, locale)
        if not report.groups:
            raise LookupError(_("There are no results on %(date)s.", date=day.isoformat()))
        progress(45, "rendering")
        rendered = render_document(
            "reports/health_report_pdf.html", r=report, sex=content.sex_words(patient), signer=signer,
            printed_on=clock.today(), colour=COLOUR, sections=printing.sections(report),
            head=printing.css_header(patient), clinic_head=css_string(report.clinic.name),
            page_of=page_counter(_("Page {page} of {pages}")))
    progress(85, "storing")
    key = storage.new_key(patient.tenant_id, "reports", ".pdf")
    storage.backend().save(key, rendered.data)
    name = f"health-report-{patient.card_no}-{day.isoformat()}.pdf"
    row = HealthReport(patient_id=patient.id, exam_date=day, locale=locale, storage_key=key, file_name=name,
                       pages=rendered.pages, size_bytes=len(rendered.data), printed_by=progress.run.requested_by)
    db.session.add(row)
    db.session.flush()
    audit.record("health_report_printed", patient_id=patient.id, actor_id=progress.run.requested_by,
                 exam_date=day.isoformat(), pages=rendered.pages, report_id=row.id)
    return {"key": key, "name": name, "message": str(rendered.pages)}
