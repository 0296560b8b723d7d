"""RQ entry points of the patients capability."""
from flask_babel import force_locale

from app.clinic import services as clinic_profile
from app.core import audit, storage
from app.core.pdf import render_pdf
from app.patients import qr, services


def render_member_card(progress, *, patient_id: int, locale: str = "zh_CN") -> dict:
    """Print the member card as a PDF under the tenant's storage prefix."""
    patient = services.get(patient_id)
    if patient is None:
        raise LookupError("patient not found")
    progress(30, "rendering")
    with force_locale(locale):
        pdf = render_pdf("patients/card_pdf.html", patient=patient, clinic_name=clinic_profile.name(),
                         qr=qr.card_data_uri(patient.card_no))
    progress(80, "storing")
    key = storage.new_key(patient.tenant_id, "cards", ".pdf")
    storage.backend().save(key, pdf)
    audit.record("card_printed", patient_id=patient.id, actor_id=progress.run.requested_by,
                 card_no=patient.card_no)
    return {"key": key, "name": f"card-{patient.card_no}.pdf"}
