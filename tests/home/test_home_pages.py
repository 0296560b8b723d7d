"""Each role's home page on the seeded demo clinic (PostgreSQL, RLS on): what it shows, the front desk's
one-click check-in, the health manager's audited phone reveal, the menu and the settings hub."""
import re

import pytest
from sqlalchemy import select

from app.booking.models import Order
from app.core import clock
from app.core.audit import AuditEvent
from app.followups.models import FollowupTask
from app.patients import services as patients
from app.patients.models import Patient
from app.records.models import ApiToken
from tenants.context import tenant_context
from tenants.db import db

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]
MASKED = re.compile(r"1\d\d\*\*\*\*\d{4}")


def _today_orders(app, demo):
    with app.app_context(), tenant_context(demo.id):
        return list(db.session.scalars(select(Order).where(Order.day == clock.today()).order_by(Order.start)))


def test_front_desk_sees_todays_arrivals_and_checks_one_in_with_one_click(app, demo, signed_in):
    desk = signed_in("front_desk")
    page = desk.get("/").get_data(as_text=True)
    orders = _today_orders(app, demo)
    assert len(orders) == 6
    for order in orders:
        assert f'id="arrival-{order.id}"' in page
    assert re.search(r'<input id="home-q" name="q" type="search"[^>]*autofocus', page)
    waiting = next(o for o in orders if o.status == "pay_at_clinic")
    assert f"/booking/orders/{waiting.id}/action/check_in" in page
    assert page.count('class="primary" aria-label=') == 5  # the one checked in already has no button
    with app.app_context(), tenant_context(demo.id):
        opened_today = patients.opened_on(clock.today())
    assert opened_today and all(p.name in page for p in opened_today[:5])

    row = desk.post(f"/booking/orders/{waiting.id}/action/check_in", data={"csrf_token": desk.csrf()},
                    headers={"HX-Request": "true"})
    assert row.status_code == 200
    html = row.get_data(as_text=True)
    assert html.startswith(f'<tr id="arrival-{waiting.id}"') and "已到检" in html and "<html" not in html
    with app.app_context(), tenant_context(demo.id):
        assert db.session.get(Order, (demo.id, waiting.id)).status == "checked_in"
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "order_changed",
                                                          AuditEvent.detail["after"].as_string() == "checked_in"))


def test_doctor_sees_alerts_waiting_reports_and_own_patients_with_new_abnormal_results(app, demo, signed_in):
    page = signed_in("doctor").get("/").get_data(as_text=True)
    assert 'id="alerts-h"' in page and 'id="waiting-h"' in page and 'id="mine-h"' in page
    assert "tier-critical" in page  # the demo's third patient has a critical value
    with app.app_context(), tenant_context(demo.id):
        mine = list(db.session.scalars(select(Patient).where(Patient.responsible_doctor_id.is_not(None))))
    assert mine
    section = page[page.index('id="mine-h"'):]
    assert any(p.name in section for p in mine)
    assert "没有新的异常结果" not in section


def test_health_manager_sees_calls_due_and_overdue_with_masked_phones(app, demo, signed_in):
    page = signed_in("health_manager").get("/").get_data(as_text=True)
    today = page[page.index('id="today-h"'):page.index('id="esc-h"')]
    overdue = page[page.index('id="overdue-h"'):page.index('id="today-h"')]
    assert today.count("/followups/tasks/") >= 4 and overdue.count("/followups/tasks/") >= 4
    assert MASKED.search(today)
    with app.app_context(), tenant_context(demo.id):
        mobiles = [patients.identifiers(p)[0] for p in db.session.scalars(select(Patient))]
    assert not any(m in page for m in mobiles)  # no full number before the reveal
    done = page[page.index('id="done-h"'):]
    assert re.search(r"<dt>已联系上</dt><dd class=\"num\">1</dd>", done)


def test_revealing_a_phone_is_audited_and_refused_to_roles_without_followups(app, demo, signed_in):
    with app.app_context(), tenant_context(demo.id):
        task = db.session.scalar(select(FollowupTask).where(FollowupTask.status == "pending",
                                                            FollowupTask.due_date == clock.today()))
        mobile = patients.identifiers(patients.get(task.patient_id))[0]
    manager = signed_in("health_manager")
    shown = manager.post(f"/followups/tasks/{task.id}/phone", data={"csrf_token": manager.csrf(), "slot": "home"},
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'<a href="tel:{mobile}">{mobile}</a>' in shown and 'id="phone-' in shown
    with app.app_context(), tenant_context(demo.id):
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "phone_revealed"))
        assert event is not None and event.patient_id == task.patient_id and event.detail["task_id"] == task.id
    desk = signed_in("front_desk")
    refused = desk.post(f"/followups/tasks/{task.id}/phone", data={"csrf_token": desk.csrf()})
    assert refused.status_code == 403 and mobile not in refused.get_data(as_text=True)
    with app.app_context(), tenant_context(demo.id):
        assert len(list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "phone_revealed")))) == 1


def test_owner_and_admin_start_on_the_clinic_dashboard(demo, signed_in):
    for role in ("owner", "admin"):
        page = signed_in(role).get("/").get_data(as_text=True)
        assert 'id="clinic-dashboard"' in page and "/settings" in page and "<svg" in page


SETTINGS_LINKS = {"/settings/clinic": "owner", "/settings/api-tokens": "admin", "/audit": "admin",
                  "/staff": "admin", "/records/indicators": "admin", "/tagging/rules": "admin",
                  "/followups/plans": "admin", "/booking/admin/packages": "admin",
                  "/notifications/templates": "admin", "/account": "front_desk"}
ORDER = ["front_desk", "health_manager", "doctor", "admin", "owner"]


def test_settings_hub_lists_each_link_only_to_roles_that_may_open_it(demo, signed_in):
    for role in ORDER:
        client = signed_in(role)
        page = client.get("/settings").get_data(as_text=True)
        hub = page[page.index("<main"):]
        for url, lowest in SETTINGS_LINKS.items():
            allowed = ORDER.index(role) >= ORDER.index(lowest)
            assert (f'href="{url}"' in hub) == allowed, (role, url)
            if allowed:
                assert client.get(url).status_code == 200, (role, url)
            else:
                assert client.get(url).status_code == 403, (role, url)


def test_the_old_api_token_addresses_still_work(app, demo, signed_in):
    admin = signed_in("admin")
    answer = admin.get("/records/api-tokens")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/settings/api-tokens")
    made = admin.submit("/records/api-tokens", {"name": "旧地址的检验系统"}).get_data(as_text=True)
    assert "旧地址的检验系统" in made
    token_id = re.search(r"/settings/api-tokens/(\d+)/revoke", made).group(1)
    assert admin.submit(f"/records/api-tokens/{token_id}/revoke").status_code == 302
    with app.app_context(), tenant_context(demo.id):
        assert db.session.get(ApiToken, (demo.id, int(token_id))).revoked_at is not None


def test_menu_marks_the_current_group_and_page_and_titles_say_where_you_are(app, demo, signed_in):
    desk = signed_in("front_desk")
    page = desk.get("/patients").get_data(as_text=True)
    menu = page[page.index('class="menu"'):page.index("</nav>", page.index('class="menu"'))]
    assert re.search(r'<a href="/patients" aria-current="page">患者', menu)
    assert menu.count('aria-current="page"') == 1
    sub = page[page.index('class="submenu"'):]
    assert re.search(r'<a href="/patients" aria-current="page">', sub)
    assert "<title>患者 · 查找患者 · CareLoop</title>" in page or "<title>患者 · CareLoop</title>" in page
    with app.app_context(), tenant_context(demo.id):
        patient = db.session.scalars(select(Patient)).first()
    detail = desk.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert f"<title>患者 · {patient.name} · CareLoop</title>" in detail
    assert f"<h1>{patient.name} <small>" in detail
    settings = signed_in("owner").get("/settings/clinic").get_data(as_text=True)
    assert re.search(r'<a href="/settings" aria-current="page">设置', settings)
    home = desk.get("/").get_data(as_text=True)
    assert re.search(r'<a href="/" aria-current="page">工作台', home)
