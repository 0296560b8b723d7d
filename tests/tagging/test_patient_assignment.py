"""The patient edit form's responsible doctor and health manager: selects of
the clinic's active staff in fitting roles. (Kept with the tagging tests, the
package that added them; they test app/patients.)"""
import pytest
from sqlalchemy import select

from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.postgres

FORM = {"name": "王晓燕", "sex": "F", "birth_date": "1980-05-17", "mobile": "13912345678", "id_number": "",
        "email": "", "address": "", "emergency_name": "", "emergency_phone": "", "source_channel": "walk_in"}


def _assigned(app, tenant, patient_id):
    with app.app_context(), tenant_context(tenant.id):
        p = db.session.scalar(select(Patient).where(Patient.id == patient_id))
        return p.responsible_doctor_id, p.health_manager_id


def test_assign_doctor_and_health_manager(app, make_tenant, make_staff, make_patient, client_for):
    t = make_tenant()
    doctor, manager = make_staff(t, "doctor"), make_staff(t, "health_manager")
    front = make_staff(t, "front_desk")
    patient = make_patient(t, name="王晓燕", sex="F", mobile="13912345678")
    client = client_for(t, t.owner_email)
    page = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    doctor_select = page.split('name="responsible_doctor_id"', 1)[1].split("</select>", 1)[0]
    manager_select = page.split('name="health_manager_id"', 1)[1].split("</select>", 1)[0]
    assert str(doctor.id) in doctor_select and str(front.id) not in doctor_select
    assert str(manager.id) in manager_select and str(front.id) not in manager_select

    response = client.submit(f"/patients/{patient.id}/edit",
                             dict(FORM, responsible_doctor_id=doctor.id, health_manager_id=manager.id))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert _assigned(app, t, patient.id) == (doctor.id, manager.id)
    detail = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert detail.count("doctor user") >= 1 and "health_manager user" in detail

    # a front-desk account or another clinic's doctor is refused beside the field
    other = make_tenant()
    stranger = make_staff(other, "doctor")
    for wrong in (front.id, stranger.id, 12345):
        response = client.submit(f"/patients/{patient.id}/edit", dict(FORM, responsible_doctor_id=wrong))
        assert response.status_code == 400
        assert 'id="responsible_doctor_id-error"' in response.get_data(as_text=True)
    assert _assigned(app, t, patient.id) == (doctor.id, manager.id)

    # nobody is a valid choice
    client.submit(f"/patients/{patient.id}/edit", dict(FORM, responsible_doctor_id="", health_manager_id=""))
    assert _assigned(app, t, patient.id) == (None, None)


def test_deactivated_assignee_stays_until_changed(app, make_tenant, make_staff, make_patient, client_for):
    from app.auth.models import StaffUser

    t = make_tenant()
    doctor = make_staff(t, "doctor")
    patient = make_patient(t, name="王晓燕", sex="F", mobile="13912345678")
    client = client_for(t, t.owner_email)
    client.submit(f"/patients/{patient.id}/edit", dict(FORM, responsible_doctor_id=doctor.id))
    with app.app_context(), tenant_context(t.id):
        db.session.scalar(select(StaffUser).where(StaffUser.id == doctor.id)).active = False
        db.session.commit()
    client.submit("/lang/en")
    page = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert "(no longer active)" in page
    response = client.submit(f"/patients/{patient.id}/edit", dict(FORM, address="新地址",
                                                                  responsible_doctor_id=doctor.id))
    assert response.status_code == 302  # an unrelated edit still saves
    assert _assigned(app, t, patient.id) == (doctor.id, None)


def test_enrolment_may_assign_too(app, make_tenant, make_staff, client_for):
    t = make_tenant()
    manager = make_staff(t, "health_manager")
    client = client_for(t, t.owner_email)
    response = client.submit("/patients/new", dict(FORM, consent="y", health_manager_id=manager.id))
    assert response.status_code == 302
    with app.app_context(), tenant_context(t.id):
        assert db.session.scalar(select(Patient.health_manager_id)) == manager.id
