"""Opening a card (开卡): validation, identifiers at rest, history, archive."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from app.core import identity
from app.core.audit import AuditEvent
from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today
from tests.helpers import valid_id

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)

GOOD = {
    "name": "王晓燕", "sex": "F", "birth_date": "1975-03-08", "mobile": "13912345678",
    "id_number": "", "address": "上海市黄浦区人民路1号", "emergency_name": "王强",
    "emergency_phone": "13800001111", "source_channel": "referral", "consent": "y",
}


def _count(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(func.count()).select_from(Patient))


def test_gb11643_check_digit():
    assert identity.parse_resident_id("11010519491231002X").sex == "F"
    assert identity.parse_resident_id("11010519491231002X").birth_date == date(1949, 12, 31)
    with pytest.raises(identity.InvalidId, match="check_digit"):
        identity.parse_resident_id("110105194912310021")
    with pytest.raises(identity.InvalidId, match="format"):
        identity.parse_resident_id("1101051949123100")
    with pytest.raises(identity.InvalidId, match="birth_date"):
        body = "11010519491331002"
        identity.parse_resident_id(body + identity.check_char(body))


def test_enrol_opens_card_with_sequence_and_consent(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    data = dict(GOOD, id_number=valid_id(date(1975, 3, 8), "F"))
    response = client.submit("/patients/new", data)
    assert response.status_code == 302
    second = client.submit("/patients/new", dict(GOOD, name="赵六", mobile="13700000000"))
    assert second.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(Patient).order_by(Patient.card_no)).all()
        assert [p.card_no[-6:] for p in rows] == ["000001", "000002"]
        assert rows[0].consent_version == app.config["CONSENT_VERSION"] and rows[0].consent_at
        # identifiers are encrypted at rest: the plain number is nowhere in the row
        raw = db.session.execute(text("SELECT * FROM patients WHERE id = :id"), {"id": rows[0].id}).one()
        assert "13912345678" not in repr(tuple(raw))
        assert data["id_number"] not in repr(tuple(raw))
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "patient_enrolled")) == 2


@pytest.mark.parametrize("field,value,needle", [
    ("id_number", "110105194912310021", "check digit"),
    ("id_number", "11010519750308", "18 characters"),
    ("mobile", "12345", "11 digits"),
    ("emergency_phone", "①②③④⑤⑥⑦⑧", "valid phone number"),  # digits to str.isdigit(), not to a phone
    ("birth_date", "in three days", "future"),
    ("name", "x" * 51, "50"),
    ("name", "<script>alert(1)</script>", "angle brackets"),
    ("address", "<img src=x onerror=alert(1)>", "angle brackets"),
    ("consent", "", "Consent"),
])
def test_bad_input_is_refused_next_to_the_field(app, make_tenant, client_for, field, value, needle):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    if value == "in three days":  # the clinic's day at the pinned clock, not at collection
        value = (clinic_today() + timedelta(days=3)).isoformat()
    data = dict(GOOD, **{field: value})
    if field == "consent":
        data.pop("consent")
    response = client.submit("/patients/new", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    error_block = body.split(f'id="{field}-error"', 1)
    assert len(error_block) == 2, f"no error next to {field}"
    assert needle in error_block[1].split("</p>", 1)[0]
    # the user's typing is kept (other fields still hold their values)
    if field != "address":
        assert 'value="上海市黄浦区人民路1号"' in body
    assert _count(app, tenant) == 0


def test_id_number_must_match_birth_date_and_sex(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    wrong_date = client.submit("/patients/new", dict(GOOD, id_number=valid_id(date(1976, 3, 8), "F")))
    assert "differs from the birth date" in wrong_date.get_data(as_text=True)
    wrong_sex = client.submit("/patients/new", dict(GOOD, id_number=valid_id(date(1975, 3, 8), "M")))
    assert "other sex" in wrong_sex.get_data(as_text=True)
    assert _count(app, tenant) == 0


def test_duplicate_id_number_is_refused(make_tenant, make_patient, client_for):
    tenant = make_tenant()
    number = valid_id(date(1975, 3, 8), "F")
    make_patient(tenant, name="王晓燕", sex="F", birth_date=date(1975, 3, 8), id_number=number)
    client = client_for(tenant, tenant.owner_email)
    response = client.submit("/patients/new", dict(GOOD, id_number=number))
    assert response.status_code == 400 and 'id="id_number-error"' in response.get_data(as_text=True)


def test_masked_in_list_full_on_detail_for_allowed_roles(app, make_tenant, make_staff, make_patient, client_for):
    tenant = make_tenant()
    number = valid_id(date(1980, 5, 17), "M")
    patient = make_patient(tenant, mobile="13612345678", id_number=number)
    owner = client_for(tenant, tenant.owner_email)
    listing = owner.get("/patients").get_data(as_text=True)
    assert "136****5678" in listing and "13612345678" not in listing
    detail = owner.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "13612345678" not in detail and number not in detail
    full = owner.get(f"/patients/{patient.id}/identifiers").get_data(as_text=True)
    assert "13612345678" in full and number in full
    manager = client_for(tenant, make_staff(tenant, "health_manager").email)
    partial = manager.get(f"/patients/{patient.id}/identifiers").get_data(as_text=True)
    assert "13612345678" in partial and number not in partial and identity.mask_id(number) in partial
    with app.app_context(), tenant_context(tenant.id):
        views = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "identifiers_viewed", AuditEvent.patient_id == patient.id))
        assert views == 2


def test_edit_keeps_search_in_step(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, name="李雷")
    client = client_for(tenant, tenant.owner_email)
    form = dict(GOOD, name="韩梅梅", sex="M", birth_date="1980-05-17", mobile=patient.mobile)
    form.pop("consent")
    assert client.submit(f"/patients/{patient.id}/edit", form).status_code == 302
    assert "韩梅梅" in client.get("/patients?q=hmm").get_data(as_text=True)
    assert "韩梅梅" not in client.get("/patients?q=lil").get_data(as_text=True)


def test_history_items_and_habits(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    hx = {"HX-Request": "true"}
    added = client.submit(f"/patients/{patient.id}/history",
                          {"kind": "allergy", "description": "青霉素", "since_year": ""}, headers=hx)
    assert added.status_code == 200 and "青霉素" in added.get_data(as_text=True)
    bad = client.submit(f"/patients/{patient.id}/history",
                        {"kind": "illness", "description": "高血压", "since_year": "1970"}, headers=hx)
    assert bad.status_code == 400 and 'id="since_year-error"' in bad.get_data(as_text=True)
    habits = client.submit(f"/patients/{patient.id}/lifestyle",
                           {"smoking": "former", "alcohol": "none", "exercise": "regular"}, headers=hx)
    assert habits.status_code == 200
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "青霉素" in page and "高血压" not in page
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(Patient, (tenant.id, patient.id)).smoking == "former"


def test_archive_and_restore(make_tenant, make_patient, make_staff, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, name="归档人")
    owner = client_for(tenant, tenant.owner_email)
    assert client_for(tenant, make_staff(tenant, "doctor").email).submit(
        f"/patients/{patient.id}/archive").status_code == 403
    owner.submit(f"/patients/{patient.id}/archive")
    hx = {"HX-Request": "true"}  # just the results table, not the flash message
    assert "归档人" not in owner.get("/patients", headers=hx).get_data(as_text=True)
    assert "归档人" in owner.get("/patients?archived=1", headers=hx).get_data(as_text=True)
    assert owner.get(f"/patients/{patient.id}").status_code == 200  # data kept
    owner.submit(f"/patients/{patient.id}/restore")
    assert "归档人" in owner.get("/patients", headers=hx).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/patients/abc", "/patients/99999999999999999999", "/patients/0",
                                  "/patients/-1", "/jobs/1e5", "/patients/12/history/xyz/delete"])
def test_malformed_ids_are_404(make_tenant, client_for, path):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    assert client.get(path).status_code in (404, 405)
    assert client.submit(path).status_code in (404, 405)


def test_all_problems_show_at_once(make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    response = client.submit("/patients/new", dict(GOOD, name="", mobile="123", id_number="12345"))
    body = response.get_data(as_text=True)
    for field in ("name", "mobile", "id_number"):
        assert f'id="{field}-error"' in body, field
