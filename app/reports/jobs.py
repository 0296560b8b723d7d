"""RQ entry points of the reports capability."""
from datetime import date

from app.core import audit, storage
from app.patients import services as patients
from app.reports import printing, styles
from app.reports.models import HealthReport
from tenants.db import db


def render_health_report(progress, *, patient_id: int, exam_date: str, locale: str = "zh_CN",
                         signer: str = "", template_key: str = styles.DEFAULT_TEMPLATE) -> dict:
    """Print the report of the patient's exam on ``exam_date`` (a clinic day) and keep it."""
    patient = patients.get(patient_id)
    if patient is None:
        raise LookupError("patient not found")
    day = date.fromisoformat(exam_date)
    progress(15, "rendering")
    rendered = printing.render(patient, day, locale, signer=signer, template_key=template_key)
    progress(85, "storing")
    key = storage.new_key(patient.tenant_id, "reports", ".pdf")
    storage.backend().save(key, rendered.data)
    name = f"health-report-{patient.card_no}-{day.isoformat()}.pdf"
    row = HealthReport(patient_id=patient.id, exam_date=day, locale=locale, storage_key=key, file_name=name,
                       pages=rendered.pages, size_bytes=len(rendered.data), printed_by=progress.run.requested_by,
                       template_key=template_key)
    db.session.add(row)
    db.session.flush()
    audit.record("health_report_printed", patient_id=patient.id, actor_id=progress.run.requested_by,
                 exam_date=day.isoformat(), pages=rendered.pages, report_id=row.id)
    return {"key": key, "name": name}
