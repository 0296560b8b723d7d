"""The edit page shows the mobile and ID numbers masked, for every role;
changing one means typing the new value; the full value is shown only by
the audited reveal, and only to a role with the permission."""
import re
from datetime import date

import pytest

from app.core.access import ROLES
from tests.helpers import valid_id

BORN = date(1980, 5, 17)
MOBILE = "13912345678"
ID_NUMBER = valid_id(BORN, "M")


def _patient(make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant, name="张明华", sex="M", birth_date=BORN, mobile=MOBILE, id_number=ID_NUMBER)
    return tenant, patient


def _form(**changes):
    data = {"name": "张明华", "sex": "M", "birth_date": BORN.isoformat(), "mobile": "", "id_number": "",
            "source_channel": "walk_in", "responsible_doctor_id": "", "health_manager_id": ""}
    data.update(changes)
    return data


def _identifiers(client, patient_id):
    """What the detail page's reveal shows (and records)."""
    body = client.get(f"/patients/{patient_id}/identifiers", headers={"HX-Request": "true"}).get_data(as_text=True)
    return body


@pytest.mark.parametrize("role", ROLES)
def test_the_edit_page_masks_the_identifiers_for_every_role(role, make_tenant, make_patient, make_staff, client_for,
                                                             audit_rows):
    tenant, patient = _patient(make_tenant, make_patient)
    email = tenant.owner_email if role == "owner" else make_staff(tenant, role).email
    client = client_for(tenant, email)
    response = client.get(f"/patients/{patient.id}/edit")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert MOBILE not in body and ID_NUMBER not in body
    assert "139****5678" in body
    assert ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:] in body
    assert audit_rows(tenant, "identifiers_viewed") == []


def test_the_reveal_on_the_edit_page_is_the_audited_one(make_tenant, make_patient, make_staff, client_for,
                                                        audit_rows):
    tenant, patient = _patient(make_tenant, make_patient)
    manager = make_staff(tenant, "health_manager")  # may see the mobile, not the ID number
    client = client_for(tenant, manager.email)
    page = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert f'hx-get="/patients/{patient.id}/identifiers' in page
    shown = _identifiers(client, patient.id)
    assert MOBILE in shown and ID_NUMBER not in shown
    owner = client_for(tenant, tenant.owner_email)
    assert ID_NUMBER in _identifiers(owner, patient.id)
    viewed = audit_rows(tenant, "identifiers_viewed")
    assert [(e.actor_id, e.detail["fields"]) for e in viewed][0] == (manager.id, ["mobile"])
    assert viewed[1].detail["fields"] == ["mobile", "id_number"]


def test_saving_without_typing_them_keeps_the_identifiers(make_tenant, make_patient, client_for):
    tenant, patient = _patient(make_tenant, make_patient)
    client = client_for(tenant, tenant.owner_email)
    response = client.submit(f"/patients/{patient.id}/edit", _form(address="北京市海淀区"))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    shown = _identifiers(client, patient.id)
    assert MOBILE in shown and ID_NUMBER in shown
    assert "北京市海淀区" in client.get(f"/patients/{patient.id}").get_data(as_text=True)


def test_a_new_value_is_typed_and_saved(make_tenant, make_patient, client_for, audit_rows):
    tenant, patient = _patient(make_tenant, make_patient)
    client = client_for(tenant, tenant.owner_email)
    response = client.submit(f"/patients/{patient.id}/edit", _form(mobile="13700001111"))
    assert response.status_code == 302
    shown = _identifiers(client, patient.id)
    assert "13700001111" in shown and ID_NUMBER in shown
    assert audit_rows(tenant, "patient_edited")[-1].detail["fields"] == ["mobile"]


def test_a_bad_new_value_keeps_the_typing_and_shows_nothing_stored(make_tenant, make_patient, client_for):
    tenant, patient = _patient(make_tenant, make_patient)
    client = client_for(tenant, tenant.owner_email)
    response = client.submit(f"/patients/{patient.id}/edit", _form(mobile="1234", address="新地址"))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'name="mobile"[^>]*value="1234"', body)
    assert "新地址" in body
    assert MOBILE not in body and ID_NUMBER not in body
    assert MOBILE in _identifiers(client, patient.id)  # nothing half-written


def test_the_kept_id_number_is_still_checked_against_the_birth_date(make_tenant, make_patient, client_for):
    tenant, patient = _patient(make_tenant, make_patient)
    client = client_for(tenant, tenant.owner_email)
    response = client.submit(f"/patients/{patient.id}/edit", _form(birth_date="1981-05-17"))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ID_NUMBER not in body


def test_the_id_number_can_be_removed_on_purpose(make_tenant, make_patient, client_for):
    tenant, patient = _patient(make_tenant, make_patient)
    client = client_for(tenant, tenant.owner_email)
    response = client.submit(f"/patients/{patient.id}/edit", _form(remove_id_number="y"))
    assert response.status_code == 302
    assert ID_NUMBER not in _identifiers(client, patient.id)
