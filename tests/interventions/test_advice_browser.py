"""In the system Chromium: a doctor composes an advice sheet on the patient
page, edits an entry in place and releases it; the patient reads it in the
portal on a phone (390 × 844)."""
import re

import pytest

from tests.browser import chromium, live_server, page_width, portal_sign_in, staff_sign_in
from tests.conftest import CHROMIUM
from tests.interventions.conftest import MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_staff_compose_edit_release_and_the_patient_reads_it_on_a_phone(app, advised, make_staff, last_code):
    tenant, person = advised
    doctor = make_staff(tenant, "doctor")
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        base = f"http://{tenant.slug}.localhost:{port}"
        page = browser.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        staff_sign_in(page, base, doctor.email)
        page.goto(f"{base}/patients/{person.id}")
        section = page.locator("#advice")
        section.get_by_role("button", name="从建议库生成草稿").click()
        section.locator("#advice-draft").wait_for()
        assert "53.5–69.1 千克" in section.inner_text()
        first = section.locator(".advice-entry").first
        first.get_by_role("link", name=re.compile("^编辑")).click()
        body = section.locator("textarea[name=body]")
        body.fill("")
        section.get_by_role("button", name="保存").click()
        section.get_by_text("请填写建议内容，不能为空。").wait_for()
        body = section.locator("textarea[name=body]")
        body.fill("每天快走 30 分钟，和家人一起。")
        section.get_by_role("button", name="保存").click()
        section.get_by_text("已保存。").wait_for()
        section.get_by_role("button", name="发布给患者").click()
        section.get_by_text("已发布：患者可在患者端查看，并已收到通知。").wait_for()
        assert section.get_by_role("button", name="生成新的草稿").is_visible()

    with live_server(app) as port, chromium(CHROMIUM, viewport={"width": 390, "height": 844}) as browser:
        base = f"http://{tenant.slug}.localhost:{port}"
        page = browser.new_page()
        page.goto(f"{base}/portal/advice")
        portal_sign_in(page, MOBILE, lambda: last_code(tenant, MOBILE))
        page.wait_for_url(f"{base}/portal/advice")
        assert page.get_by_role("heading", name="我的健康建议").is_visible()
        text = page.locator("#advice-sheet").inner_text()
        assert "每天快走 30 分钟，和家人一起。" in text and "53.5–69.1" in text
        assert page_width(page) <= 390
