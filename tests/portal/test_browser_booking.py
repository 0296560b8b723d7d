"""In the system Chromium at phone size: sign in with a texted code, book,
see the confirmation, reschedule, cancel (after confirming)."""
import re

import pytest

from tests.booking.conftest import open_day
from tests.browser import chromium, live_server, page_width
from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.redis]
MOBILE = "13966668888"


def test_phone_booking_journey(app, make_tenant, make_patient, make_package, last_code):
    tenant = make_tenant()
    make_patient(tenant, name="林小雨", sex="F", mobile=MOBILE)
    make_package(tenant, name="白领体检套餐", price="688", fasting=True)
    day, later = open_day(), open_day(5)
    with live_server(app) as port, chromium(CHROMIUM, viewport={"width": 390, "height": 844}) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        page.goto(f"{base}/shop")
        page.get_by_role("button", name="English").click()
        page.get_by_role("link", name="白领体检套餐", exact=True).click()
        assert page_width(page) <= 390
        if page.locator(f'a[href*="day={day.isoformat()}"]').count() == 0:
            page.get_by_role("link", name=re.compile("Next month")).click()
        page.locator(f'a[href*="day={day.isoformat()}"]').click()
        page.get_by_role("radio", name=re.compile(r"^07:30")).check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Mobile number").fill(MOBILE)
        page.get_by_role("button", name="Text me a code").click()
        page.get_by_label("6-digit code from the text message").fill(last_code(tenant, MOBILE))
        page.get_by_role("button", name="Sign in").click()
        assert "林小雨" in page.content()
        page.get_by_role("button", name="Book").click()
        assert "Booked: 白领体检套餐" in page.get_by_role("status").first.inner_text()
        assert "07:30" in page.content()
        page.get_by_role("link", name="Change date or time").click()
        if page.locator(f'a[href*="day={later.isoformat()}"]').count() == 0:
            page.get_by_role("link", name=re.compile("Next month")).click()
        page.locator(f'a[href*="day={later.isoformat()}"]').click()
        page.get_by_role("radio", name=re.compile(r"^08:30")).check()
        page.get_by_role("button", name="Continue").click()
        assert "Moved to" in page.get_by_role("status").first.inner_text()
        page.get_by_role("link", name="Cancel this booking").click()
        assert page.get_by_role("heading", name="Cancel this booking?").is_visible()
        page.get_by_role("button", name="Yes, cancel the booking").click()
        assert "is cancelled" in page.get_by_role("status").first.inner_text()
        assert "Cancelled" in page.content()
        assert page_width(page) <= 390
