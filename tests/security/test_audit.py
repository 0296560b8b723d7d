"""Audit that answers "who did what to whom": what is recorded, the staff
page (paging, filters, names, words, CSV), and the patient's own view."""
import csv
import io
from datetime import timedelta

from sqlalchemy import select

from app.core import audit
from app.core.audit import AuditEvent
from app.records import api_tokens
from app.records.models import ExamReport
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today
from tests.conftest import PASSWORD
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (fixtures)

MOBILE = "13912347777"


def _events(app, tenant, action):
    with app.app_context(), tenant_context(tenant.id):
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                       .order_by(AuditEvent.at, AuditEvent.id)))


def test_an_identifier_change_names_the_field_never_the_value(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, mobile=MOBILE)
    client = client_for(tenant, tenant.owner_email)
    form = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert 'name="mobile"' in form
    data = {"name": patient.name, "sex": "M", "birth_date": "1980-05-17", "mobile": "13912348888",
            "id_number": "", "email": "", "address": "", "emergency_name": "", "emergency_phone": "",
            "source_channel": "walk_in", "responsible_doctor_id": "", "health_manager_id": ""}
    saved = client.submit(f"/patients/{patient.id}/edit", data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    edited = _events(app, tenant, "patient_edited")[-1]
    assert edited.detail["fields"] == ["mobile"]
    assert "13912348888" not in repr(edited.detail) and MOBILE not in repr(edited.detail)


def _hl7(card_no: str) -> bytes:
    return ("\r".join([
        "MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|20240506093000||ORU^R01|AUD1|P|2.5.1",
        f"PID|1||{card_no}||张明华||19700101|M", "OBR|1||AUD-1|LAB^生化|||20240506083000",
        "OBX|1|NM|14771-0^空腹血糖^LN||6.8|mmol/L|3.9-6.1|H|||F|||20240506083000"]) + "\r").encode()


def test_an_api_import_names_the_token_that_sent_it(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        token_row, token = api_tokens.create("检验科 LIS", ["hl7:write"], None)
        db.session.commit()
        token_id = token_row.id
    answer = client_for(tenant).post("/api/v1/hl7", data=_hl7(patient.card_no), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/hl7-v2"})
    assert answer.status_code == 200
    event = _events(app, tenant, "reports_imported")[-1]
    assert event.actor_label == audit.API_ACTOR + "检验科 LIS" and event.detail["results"] == 1
    with app.app_context(), tenant_context(tenant.id):
        report = db.session.scalar(select(ExamReport).where(ExamReport.patient_id == patient.id))
        assert report.api_token_id == token_id
    page = client_for(tenant, tenant.owner_email).get("/audit?action=reports_imported").get_data(as_text=True)
    assert "检验科 LIS" in page


def test_tag_rule_changes_are_recorded(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    form = {"name": "审计规则", "tag": "审计标签", "op": "and", "active": "y", "g0-op": "and",
            "g0-c0-source": "indicator", "g0-c0-code": "14771-0", "g0-c0-measure": "latest", "g0-c0-cmp": ">=",
            "g0-c0-value": "7.0", "g0-c0-unit": "mmol/L", "action": "save"}
    assert client.submit("/tagging/rules/new", form).status_code in (302, 204)
    saved = _events(app, tenant, "tag_rule_saved")
    assert [e.detail["name"] for e in saved] == ["审计规则"]


def test_the_page_pages_filters_names_and_words(app, make_tenant, make_staff, make_patient, client_for,
                                                pinned_clock):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    patient = make_patient(tenant, name="审计病人")
    today = clinic_today()
    with app.app_context(), tenant_context(tenant.id):
        for _ in range(130):  # more than one page
            audit.record("identifiers_viewed", patient_id=patient.id, actor_id=doctor.id)
        db.session.commit()
    pinned_clock.shift(timedelta(days=3))
    with app.app_context(), tenant_context(tenant.id):
        audit.record("patient_edited", patient_id=patient.id, actor_id=doctor.id, fields=["mobile", "address"])
        db.session.commit()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    first = client.get(f"/audit?staff={doctor.id}").get_data(as_text=True)
    assert first.count("<tr>") == 1 + 100  # the header and a page of 100
    assert "审计病人" in first and "doctor user" in first and str(patient.id) + "<" not in first
    assert "fields: mobile, address" in first  # details in words
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert second.count("<tr>") == 1 + 31 and 'rel="next"' not in second
    only_edits = client.get(f"/audit?action=patient_edited&patient={patient.id}").get_data(as_text=True)
    assert only_edits.count("<tr>") == 2
    in_range = client.get(f"/audit?since={today.isoformat()}&until={today.isoformat()}&staff={doctor.id}")
    assert "fields: mobile" not in in_range.get_data(as_text=True)  # the edit was three days later
    bad = client.get("/audit?since=yesterday&action=drop_tables")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="since-error"' in body and 'id="action-error"' in body


def test_the_export_is_csv_and_is_itself_recorded(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, name="导出病人")
    client = client_for(tenant, tenant.owner_email)
    client.get(f"/patients/{patient.id}")
    response = client.get(f"/audit/export.csv?patient={patient.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) >= 2 and any("导出病人" in cell for row in rows[1:] for cell in row)
    assert _events(app, tenant, "audit_exported")[-1].detail["filters"] == {"patient": str(patient.id)}


def test_only_owners_and_admins_read_or_export_the_trail(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    for role in ("doctor", "health_manager", "front_desk"):
        client = client_for(tenant, make_staff(tenant, role).email)
        assert client.get("/audit").status_code == 403 and client.get("/audit/export.csv").status_code == 403


def test_a_patient_sees_who_at_the_clinic_opened_their_record(app, make_tenant, make_staff, make_patient,
                                                              client_for, patient_client, pinned_clock):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    mine = make_patient(tenant, name="看记录", mobile=MOBILE)
    other = make_patient(tenant, name="别人", mobile="13912349999")
    staff_client = client_for(tenant, doctor.email)
    for _ in range(3):  # three clicks in a few minutes: one entry
        assert staff_client.get(f"/patients/{mine.id}").status_code == 200
    staff_client.get(f"/patients/{other.id}")
    assert len([e for e in _events(app, tenant, "record_opened") if e.patient_id == mine.id]) == 1
    pinned_clock.shift(timedelta(minutes=16))
    staff_client.get(f"/patients/{mine.id}/records")
    assert len([e for e in _events(app, tenant, "record_opened") if e.patient_id == mine.id]) == 2
    portal = patient_client(tenant, MOBILE)
    portal.post("/lang/en", data={"csrf_token": portal.token})
    page = portal.get("/portal/record-access").get_data(as_text=True)
    assert page.count("doctor user") == 2 and "Doctor" in page and "Opened the record" in page
    assert "别人" not in page
    assert portal.get("/portal/results").status_code == 200
    assert _events(app, tenant, "portal_results_viewed")[-1].actor_label == audit.PORTAL_ACTOR


def test_staff_sign_in_is_recorded_with_the_page_in_words(app, make_tenant, client_for):
    tenant = make_tenant()
    client_for(tenant).login(tenant.owner_email, PASSWORD)
    owner = client_for(tenant, tenant.owner_email)
    owner.submit("/lang/en")
    assert "Signed in" in owner.get("/audit?action=sign_in").get_data(as_text=True)
