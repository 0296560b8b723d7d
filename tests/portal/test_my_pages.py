"""The signed-in patient's own results and messages: only theirs, flags in
words, group filter, read marks and the unread count, in both languages."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.notifications.conftest import drain  # noqa: F401  (shared fixture)
from tests.releasing import release_all

pytestmark = [pytest.mark.redis, pytest.mark.time_sensitive]

A_MOBILE, B_MOBILE = "13912340001", "13912340002"


def _results(app, tenant, patient_id, values):
    """values: [(code, text, unit, year)] stored for the patient, and released to their portal."""
    from app.patients import services as patients
    from app.records import services as records
    from tenants.context import tenant_context
    from tenants.db import db

    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(patient_id)
        for code, text, unit, year in values:
            records.store(patient, records.Value(records.indicator_by_code(code), text, unit,
                                                 datetime(year, 6, 1, 1, 0, tzinfo=timezone.utc)))
        db.session.commit()
    release_all(app, tenant, patient_id)


@pytest.fixture
def two_patients(app, make_tenant, make_patient):
    tenant = make_tenant()
    a = make_patient(tenant, name="甲患者", mobile=A_MOBILE)
    b = make_patient(tenant, name="乙患者", sex="F", mobile=B_MOBILE)
    _results(app, tenant, a.id, [("14771-0", "7.93", "mmol/L", 2023), ("14771-0", "5.12", "mmol/L", 2024),
                                 ("14647-2", "4.26", "mmol/L", 2024)])
    _results(app, tenant, b.id, [("14771-0", "11.77", "mmol/L", 2022), ("1742-6", "88.25", "U/L", 2022)])
    return tenant, a, b


def test_results_show_own_values_flags_in_words_and_charts(two_patients, patient_client):
    tenant, a, b = two_patients
    client = patient_client(tenant, A_MOBILE)
    client.post("/lang/en", data={"csrf_token": client.token}, headers={"Referer": "/portal/results"})
    page = client.get("/portal/results").get_data(as_text=True)
    assert "Fasting glucose" in page and "7.93" in page and "5.12" in page and "Total cholesterol" in page
    assert "2023-06-01" in page and "2024-06-01" in page
    # a word (and an arrow beside it), not colour alone
    assert re.search(r'7\.93</span>\s*<span class="flag" data-flag="H"><span aria-hidden="true">↑</span> high</span>',
                     page)
    assert "back within the interval" in page and ">new<" not in page  # 2024 back in range, in plain words
    assert page.count("<svg") == 2 and 'viewBox="0 0 ' in page
    assert 'role="region"' in page and 'tabindex="0"' in page  # the year table scrolls in its own box
    # nothing of the other patient
    assert "乙患者" not in page and "11.77" not in page and "ALT" not in page and "2022-06-01" not in page
    assert str(b.id) not in page and str(a.id) not in page  # no patient ids in the page or its links


def test_results_filter_by_group(two_patients, patient_client):
    tenant, a, _b = two_patients
    client = patient_client(tenant, A_MOBILE)
    page = client.get("/portal/results?group=lipids").get_data(as_text=True)
    assert "4.26" in page and "7.93" not in page and page.count("<svg") == 1
    assert 'href="/portal/results?group=glucose"' in page
    assert re.findall(r'aria-current="page">([^<]*)<', page) == ["我的结果", "血脂"]  # the page, then the group
    everything = client.get("/portal/results?group=nonsense").get_data(as_text=True)
    assert "7.93" in everything and "4.26" in everything  # an unknown group shows all


def test_second_patient_sees_only_their_own(two_patients, patient_client):
    tenant, a, b = two_patients
    client = patient_client(tenant, B_MOBILE)
    page = client.get("/portal/results").get_data(as_text=True)
    assert "乙患者" in page and "11.77" in page and "2022-06-01" in page
    assert "甲患者" not in page and "7.93" not in page and "5.12" not in page and "2023-06-01" not in page
    # the query string cannot name another patient
    for attempt in (f"/portal/results?patient_id={a.id}", f"/portal/results?patient={a.id}"):
        assert "7.93" not in client.get(attempt).get_data(as_text=True)


def test_results_need_sign_in_and_a_card(make_tenant, client_for, patient_client):
    tenant = make_tenant()
    response = client_for(tenant).get("/portal/results")
    assert response.status_code == 302 and "/portal/sign-in" in response.headers["Location"]
    client = patient_client(tenant, "13912340009")  # no card with this number
    page = client.get("/portal/results").get_data(as_text=True)
    assert "<table" not in page and "/portal/messages" in page


def _booking_messages(app, tenant, patient_id, drain):
    """A confirmation (care, sent) and a sign-in code (security) for the patient."""
    from app.notifications import services as notifications
    from app.notifications.models import Notification
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db

    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(patient_id)
        for key in ("a", "b"):
            notifications.notify("booking_confirmation", notifications.patient_recipient(patient), {
                "patient_name": patient.name, "package": f"套餐{key}{patient.name}", "date": "2030-01-02",
                "time": "07:30", "clinic": tenant.name, "order_no": f"NO-{key}-{patient_id}",
                "preparation": "空腹"}, idempotency_key=f"test:{patient_id}:{key}", channels=("sms",), at_once=True)
        db.session.commit()
    drain()
    with app.app_context(), tenant_context(tenant.id):
        return [r.id for r in db.session.scalars(select(Notification).where(
            Notification.recipient_type == "patient", Notification.recipient_id == patient_id,
            Notification.template_key == "booking_confirmation", Notification.status == "sent"))]


def test_messages_unread_count_and_mark_read(app, two_patients, patient_client, drain):
    tenant, a, b = two_patients
    a_ids = _booking_messages(app, tenant, a.id, drain)
    b_ids = _booking_messages(app, tenant, b.id, drain)
    assert len(a_ids) == 2 and len(b_ids) == 2
    client = patient_client(tenant, A_MOBILE)
    client.post("/lang/en", data={"csrf_token": client.token}, headers={"Referer": "/portal/messages"})
    page = client.get("/portal/messages").get_data(as_text=True)
    assert "套餐a甲患者" in page and "套餐b甲患者" in page and "乙患者" not in page
    assert "验证码" not in page and "code is" not in page  # sign-in codes are not shown
    assert "2 unread" in page and page.count(">New</span>") == 2
    assert "2 unread" in client.get("/portal").get_data(as_text=True)  # the count on every portal page
    # another patient's message cannot be marked
    assert client.post(f"/portal/messages/{b_ids[0]}/read", data={"csrf_token": client.token}).status_code == 404
    response = client.post(f"/portal/messages/{a_ids[0]}/read", data={"csrf_token": client.token})
    assert response.status_code == 302
    page = client.get("/portal/messages").get_data(as_text=True)
    assert "1 unread" in page and page.count(">New</span>") == 1
    client.post("/portal/messages/read-all", data={"csrf_token": client.token})
    page = client.get("/portal/messages").get_data(as_text=True)
    assert "unread" not in page and ">New</span>" not in page
    # B's messages are untouched
    other = patient_client(tenant, B_MOBILE)
    assert other.get("/portal/messages").get_data(as_text=True).count('class="badge"') == 2
    # signed out: no marking at all
    assert client_for_anonymous(app, tenant).post(f"/portal/messages/{a_ids[1]}/read").status_code in (400, 403)


def client_for_anonymous(app, tenant):
    client = app.test_client()
    client.host = tenant.host
    return client


def test_language_switch_on_portal_pages(two_patients, patient_client):
    tenant, _a, _b = two_patients
    client = patient_client(tenant, A_MOBILE)
    for path in ("/portal", "/portal/results", "/portal/messages"):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="zh-CN">' in page and "/lang/en" in page and "我的" in page
        response = client.post("/lang/en", data={"csrf_token": client.token}, headers={"Referer": f"http://{tenant.host}{path}"})
        assert response.status_code == 302 and response.headers["Location"].endswith(path)
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="en">' in page and "/lang/zh_CN" in page and "My results" in page
        client.post("/lang/zh_CN", data={"csrf_token": client.token})
