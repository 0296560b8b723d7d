"""The advice section of the patient page, composing, editing in place,
releasing (once), the portal page, the library admin; who may do what."""
import re

import pytest
from sqlalchemy import select

from app.interventions.advice_models import AdviceItem, AdviceItemVersion, AdviceSheet
from app.notifications.models import Notification
from tenants.context import tenant_context
from tenants.db import db
from tests.interventions.conftest import MOBILE

pytestmark = pytest.mark.time_sensitive  # the patient's age counts from the clinic's today


def _staff(make_staff, client_for, tenant, role):
    person = make_staff(tenant, role)
    client = client_for(tenant, person.email)
    client.post("/lang/en", data={"csrf_token": client.csrf()})
    return client


def _sheet(app, tenant, patient_id) -> AdviceSheet:
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalars(select(AdviceSheet).where(AdviceSheet.patient_id == patient_id)
                                  .order_by(AdviceSheet.created_at.desc())).first()


def test_a_doctor_composes_a_personal_draft_with_reasons(app, advised, make_staff, client_for):
    tenant, person = advised
    client = _staff(make_staff, client_for, tenant, "doctor")
    page = client.get(f"/patients/{person.id}/advice").get_data(as_text=True)
    assert "Compose a draft from the library" in page
    response = client.submit(f"/patients/{person.id}/advice/compose", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="advice"' in page
    sheet = _sheet(app, tenant, person.id)
    keys = [e["item_key"] for e in sheet.entries]
    assert {"weight_target", "weight_waist", "smoking_quit", "exercise_150", "diet_balanced"} <= set(keys)
    assert "mental_assessment" not in keys and "exercise_balance_older" not in keys
    # the patient reads Chinese (his card's language): his numbers are in the words
    weight = next(e for e in sheet.entries if e["item_key"] == "weight_target")
    assert "27.7" in weight["body"] and "53.5–69.1 千克" in weight["body"] and weight["needs"] == []
    exercise = next(e for e in sheet.entries if e["item_key"] == "exercise_150")
    assert "约为 90 分钟" in exercise["body"] and "60" in exercise["body"]
    assert "Why: Weight status" in page or "Why: " in page
    assert "Current smoker" in page  # why the smoking item applies
    # composing again while a draft is open gives the same draft
    client.submit(f"/patients/{person.id}/advice/compose")
    with app.app_context(), tenant_context(tenant.id):
        assert len(db.session.scalars(select(AdviceSheet)).all()) == 1


def test_editing_in_place_refuses_empty_text_and_keeps_the_typing(app, advised, make_staff, client_for):
    tenant, person = advised
    client = _staff(make_staff, client_for, tenant, "health_manager")
    client.submit(f"/patients/{person.id}/advice/compose")
    sheet = _sheet(app, tenant, person.id)
    url = f"/patients/{person.id}/advice/{sheet.id}/entries/0"
    form = client.get(url + "/edit", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<textarea" in form
    response = client.submit(url, {"title": "我的标题", "body": "   "}, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Write the advice; it cannot be empty." in page and 'value="我的标题"' in page
    response = client.submit(url, {"title": "少盐", "body": "每天盐不超过 5 克。"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "每天盐不超过 5 克。" in response.get_data(as_text=True)
    entry = _sheet(app, tenant, person.id).entries[0]
    assert entry["body"] == "每天盐不超过 5 克。" and entry["edited"]


def test_release_is_once_locks_the_sheet_and_tells_the_patient_without_health_words(
        app, advised, make_staff, client_for):
    tenant, person = advised
    client = _staff(make_staff, client_for, tenant, "doctor")
    client.submit(f"/patients/{person.id}/advice/compose")
    sheet = _sheet(app, tenant, person.id)
    first = client.submit(f"/patients/{person.id}/advice/{sheet.id}/release", headers={"HX-Request": "true"})
    assert "Released" in first.get_data(as_text=True)
    again = client.submit(f"/patients/{person.id}/advice/{sheet.id}/release", headers={"HX-Request": "true"})
    assert again.status_code == 200 and "released already" in again.get_data(as_text=True)
    with app.app_context(), tenant_context(tenant.id):
        sent = db.session.scalars(select(Notification).where(Notification.template_key == "advice_released")).all()
        assert len(sent) == 1  # the patient has a mobile only: one SMS
        assert "健康建议" in sent[0].body_text and "27.7" not in sent[0].body_text and "吸烟" not in sent[0].body_text
    # a released sheet is not edited
    response = client.submit(f"/patients/{person.id}/advice/{sheet.id}/entries/0", {"title": "x", "body": "y"},
                             headers={"HX-Request": "true"})
    assert "stays as it is" in response.get_data(as_text=True)
    assert _sheet(app, tenant, person.id).entries[0]["body"] != "y"
    # a new draft for changes
    page = client.get(f"/patients/{person.id}/advice").get_data(as_text=True)
    assert "Compose a new draft" in page


@pytest.mark.parametrize(("role", "sees", "edits"), [("front_desk", False, False), ("doctor", True, True),
                                                      ("health_manager", True, True), ("admin", True, True)])
def test_who_may_see_and_edit_advice(app, advised, make_staff, client_for, role, sees, edits):
    tenant, person = advised
    client = _staff(make_staff, client_for, tenant, role)
    assert client.get(f"/patients/{person.id}/advice").status_code == (200 if sees else 403)
    response = client.submit(f"/patients/{person.id}/advice/compose")
    assert response.status_code == (302 if edits else 403)


def test_library_admin_saves_a_new_version_and_sheets_keep_their_words(app, advised, make_staff, client_for):
    tenant, person = advised
    doctor = _staff(make_staff, client_for, tenant, "doctor")
    doctor.submit(f"/patients/{person.id}/advice/compose")
    assert doctor.get("/advice/library").status_code == 403
    admin = _staff(make_staff, client_for, tenant, "admin")
    page = admin.get("/advice/library").get_data(as_text=True)
    assert "Advice library" in page and "Eat a varied, balanced diet" in page
    with app.app_context(), tenant_context(tenant.id):
        item = db.session.scalar(select(AdviceItem).where(AdviceItem.key == "smoking_quit"))
        item_id = item.id
    form = admin.get(f"/advice/library/{item_id}").get_data(as_text=True)
    assert 'value="habit:smoking:current" checked' in form
    data = {"category": "smoking_alcohol", "title_zh": "戒烟", "title_en": "Stop smoking", "body_zh": "",
            "body_en": "Stop.", "source": "China clinical smoking cessation guideline 2015", "tags": "",
            "age_min": "", "age_max": "", "sex": "", "active": "y", "chosen": ["habit:smoking:current"]}
    refused = admin.submit(f"/advice/library/{item_id}", data)
    assert refused.status_code == 422 and "cannot be empty" in refused.get_data(as_text=True)
    assert 'value="Stop smoking"' in refused.get_data(as_text=True)
    data["body_zh"] = "今天就戒烟，{bmi}。"
    assert admin.submit(f"/advice/library/{item_id}", data).status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        versions = db.session.scalars(select(AdviceItemVersion).where(AdviceItemVersion.item_id == item_id)).all()
        assert sorted(v.version for v in versions) == [1, 2]
    sheet = _sheet(app, tenant, person.id)
    kept = next(e for e in sheet.entries if e["item_key"] == "smoking_quit")
    assert kept["version"] == 1 and "吸烟会损害" in kept["body"]
    doctor.submit(f"/patients/{person.id}/advice/{sheet.id}/recompose")
    again = next(e for e in _sheet(app, tenant, person.id).entries if e["item_key"] == "smoking_quit")
    assert again["version"] == 2 and again["body"] == "今天就戒烟，27.7。"


def test_the_portal_shows_released_advice_only(app, advised, make_staff, client_for, patient_client):
    tenant, person = advised
    staff = _staff(make_staff, client_for, tenant, "doctor")
    staff.submit(f"/patients/{person.id}/advice/compose")
    sheet = _sheet(app, tenant, person.id)
    client = patient_client(tenant, MOBILE)
    page = client.get("/portal/advice").get_data(as_text=True)
    assert "吸烟会损害" not in page and 'aria-current="page"' in page
    assert client.get(f"/portal/advice/{sheet.id}").status_code == 404  # a draft
    staff.submit(f"/patients/{person.id}/advice/{sheet.id}/release")
    page = client.get("/portal/advice").get_data(as_text=True)
    assert "吸烟会损害" in page and "53.5–69.1" in page
    assert client.get(f"/portal/advice/{sheet.id}").status_code == 200
    assert re.search(r"来源|Source", page)


def test_an_edit_that_fills_in_a_needed_number_clears_the_need(app, make_tenant, make_patient, make_staff, client_for):
    tenant = make_tenant()
    person = make_patient(tenant, name="李想")  # no height, weight, waist or IPAQ
    client = _staff(make_staff, client_for, tenant, "doctor")
    client.submit(f"/patients/{person.id}/advice/compose")
    sheet = _sheet(app, tenant, person.id)
    index, entry = next((n, e) for n, e in enumerate(sheet.entries) if e["item_key"] == "exercise_150")
    assert entry["needs"] == ["体力活动问卷（IPAQ）"] and "［缺少：体力活动问卷（IPAQ）］" in entry["body"]
    page = client.get(f"/patients/{person.id}/advice").get_data(as_text=True)
    assert "Needed: 体力活动问卷（IPAQ）" in page
    url = f"/patients/{person.id}/advice/{sheet.id}/entries/{index}"
    client.submit(url, {"title": entry["title"], "body": entry["body"] + " 请下次随访时填写问卷。"})
    assert _sheet(app, tenant, person.id).entries[index]["needs"] == ["体力活动问卷（IPAQ）"]
    client.submit(url, {"title": entry["title"], "body": "每周至少 150 分钟中等强度活动。"})
    assert _sheet(app, tenant, person.id).entries[index]["needs"] == []


def test_a_new_clinic_starts_with_the_whole_pack(app, make_tenant):
    from tenants import packs

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.id):
        keys = set(db.session.scalars(select(AdviceItem.pack_key)))
        assert keys == {spec["key"] for spec in packs.load("advice")["items"]}
        assert len(db.session.scalars(select(AdviceItemVersion)).all()) == len(keys)
