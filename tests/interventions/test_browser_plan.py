"""In the system Chromium: staff start a hypertension plan from the patient
page, the patient records a home blood pressure in the portal on a phone
(390×844), and staff see it on the plan's progress chart, marked self-measured."""
import pytest

from tests.browser import chromium, live_server, page_width, portal_sign_in, staff_sign_in
from tests.clock import clinic_today
from tests.conftest import CHROMIUM
from tests.interventions.helpers import MOBILE, store
from tests.test_browser_accessibility import _audit

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_start_record_at_home_and_see_progress(app, make_tenant, make_patient, last_code):
    tenant = make_tenant("康宁健康管理中心")
    patient = make_patient(tenant, name="周一鸣", mobile=MOBILE)
    store(app, tenant, patient.id, "8480-6", 152, "mm[Hg]", days_ago=20)
    store(app, tenant, patient.id, "8462-4", 96, "mm[Hg]", days_ago=20)
    with live_server(app) as port:
        base = f"http://{tenant.slug}.localhost:{port}"
        with chromium(CHROMIUM, bypass_csp=True) as browser:
            page = browser.new_page()
            staff_sign_in(page, base, tenant.owner_email)
            page.goto(f"{base}/patients/{patient.id}")
            page.locator("#care-plans").get_by_role("link", name="高血压健康干预").click()
            page.wait_for_url("**/plans/new/hypertension")
            assert page.locator("#goal-systolic-target").input_value() == "130.0"
            page.select_option("#responsible", label=page.locator("#responsible option").nth(1).inner_text())
            found: list[str] = []
            _audit(page, page.url, "the start form", found)
            page.get_by_role("button", name="开始计划").click()
            page.wait_for_url("**/plans/*")
            plan_url = page.url
            assert page.locator("figure.chart svg").count() == 3  # systolic, diastolic, active minutes
            _audit(page, plan_url, "the plan page", found)
            page.goto(f"{base}/patients/{patient.id}")
            page.locator("#care-plans").wait_for()
            _audit(page, page.url, "the patient page with its plans", found)
            assert found == []

        with chromium(CHROMIUM, viewport={"width": 390, "height": 844}, bypass_csp=True) as phone:
            page = phone.new_page()
            page.goto(f"{base}/portal/plans")
            portal_sign_in(page, MOBILE, lambda: last_code(tenant, MOBILE))
            page.wait_for_url(f"{base}/portal/plans")
            assert page.get_by_role("heading", name="我的健康计划").is_visible()
            assert page_width(page) <= 390
            page.get_by_label("高压（收缩压）").fill("abc")
            page.get_by_role("button", name="保存测量值").click()
            assert page.locator("#systolic-error").is_visible()
            assert page.get_by_label("高压（收缩压）").input_value() == "abc"  # the typing is kept
            page.get_by_label("高压（收缩压）").fill("128")
            page.get_by_label("低压（舒张压）").fill("82")
            page.get_by_role("button", name="保存测量值").click()
            page.wait_for_url(f"{base}/portal/plans#reading")
            assert "128" in page.content() and "自测" in page.content()
            page.get_by_role("button", name="标记完成").first.click()
            page.get_by_role("button", name="已完成").first.wait_for()
            assert page_width(page) <= 390
            found = []
            _audit(page, f"{base}/portal/plans", "the portal plan page", found)
            assert found == []

        with chromium(CHROMIUM, bypass_csp=True) as browser:
            page = browser.new_page()
            staff_sign_in(page, base, tenant.owner_email)
            page.goto(plan_url)
            chart = page.locator("figure.chart svg").first
            assert "128" in chart.inner_html()
            page.locator("figure.chart + details summary").first.click()
            assert page.locator(".self-reported").first.is_visible()
            assert clinic_today().isoformat() in page.content()
