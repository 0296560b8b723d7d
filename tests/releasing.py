"""Releasing a test patient's results to their portal, as a doctor would (without telling them)."""
from app.patients import services as patients
from app.records import releases
from tenants.context import tenant_context
from tenants.db import db


def release_all(app, tenant, patient_id: int) -> None:
    """Every exam day of the patient that is not in their portal yet."""
    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(patient_id)
        for day, _abnormal in releases.waiting(patient_id):
            releases.release(patient, day, mode="doctor", actor_id=None, tell=False)
        db.session.commit()
