"""The habits on the patient page save for every role that may change them (the front desk too), audited
and signalled as other history edits; a role without the permission sees them read only and cannot post."""
from sqlalchemy import select

from app.core import access
from app.core.audit import AuditEvent
from app.patients import services
from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db


def test_front_desk_saves_habits(app, make_tenant, make_staff, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)
    page = desk.get(f"/patients/{patient.id}").get_data(as_text=True)
    form = page[page.index('<form id="lifestyle"'):]
    form = form[:form.index("</form>")]
    assert 'name="smoking"' in form and 'type="submit"' in form
    sent = []

    def heard(tenant_id, **ids):
        sent.append((tenant_id, ids))

    with services.history_changed.connected_to(heard):
        response = desk.submit(f"/patients/{patient.id}/lifestyle",
                               {"smoking": "current", "alcohol": "", "exercise": ""}, headers={"HX-Request": "true"})
        assert response.status_code == 200 and 'role="status"' in response.get_data(as_text=True)
        desk.submit(f"/patients/{patient.id}/lifestyle", {"smoking": "current", "alcohol": "", "exercise": ""})
    assert sent == [(tenant.id, {"patient_id": patient.id})]  # the second save changed nothing
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(Patient, (tenant.id, patient.id)).smoking == "current"
        trail = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "history_edited", AuditEvent.patient_id == patient.id).order_by(AuditEvent.at)))
        assert [e.detail for e in trail] == [{"section": "lifestyle", "fields": ["smoking"]},
                                             {"section": "lifestyle", "fields": []}]


def test_a_role_without_the_permission_cannot_save(app, make_tenant, make_staff, make_patient, client_for,
                                                   monkeypatch):
    tenant = make_tenant()
    patient = make_patient(tenant)
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)
    monkeypatch.setitem(access.ROLE_PERMISSIONS, "patients.lifestyle", access.ROLE_PERMISSIONS["patients.lifestyle"]
                        - {"front_desk"})
    page = desk.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert 'id="lifestyle"' in page and 'name="smoking"' not in page  # shown, not offered for change
    response = desk.submit(f"/patients/{patient.id}/lifestyle", {"smoking": "current", "alcohol": "", "exercise": ""})
    assert response.status_code == 403
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(Patient, (tenant.id, patient.id)).smoking == ""
