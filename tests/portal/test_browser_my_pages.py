"""In the system Chromium at phone size (390 px): a patient signs in, reads
their results (the year table scrolls in its own box, charts fit the width),
filters a group, then reads and marks their messages."""
import re

import pytest

from tests.browser import chromium, live_server, page_width, smallest_chart_text
from tests.conftest import CHROMIUM
from tests.notifications.conftest import drain  # noqa: F401  (shared fixture)
from tests.portal.test_my_pages import _booking_messages, _results

pytestmark = [pytest.mark.browser, pytest.mark.redis]
MOBILE = "13966661234"


def test_phone_results_and_messages(app, make_tenant, make_patient, last_code, drain):
    tenant = make_tenant()
    patient = make_patient(tenant, name="周一鸣", mobile=MOBILE)
    _results(app, tenant, patient.id, [("14771-0", f"{v:.2f}", "mmol/L", year) for year, v in
                                       zip(range(2018, 2026), (5.11, 5.62, 6.43, 7.34, 7.05, 6.16, 5.87, 5.58))]
             + [("14647-2", "4.41", "mmol/L", 2025)])
    _booking_messages(app, tenant, patient.id, drain)
    with live_server(app) as port, chromium(CHROMIUM, viewport={"width": 390, "height": 844}) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        page.goto(f"{base}/portal/results")
        page.get_by_role("button", name="English").click()
        page.get_by_label("Mobile number").fill(MOBILE)
        page.get_by_role("button", name="Text me a code").click()
        page.get_by_label("6-digit code from the text message").fill(last_code(tenant, MOBILE))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/portal/results")

        assert page.get_by_role("heading", name="My results").is_visible()
        assert page_width(page) <= 390  # the page itself never scrolls sideways
        region = page.get_by_role("region", name="Checkups year by year")
        box = region.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert box[0] > box[1]  # eight years: the table scrolls inside its own box
        region.focus()  # keyboard users can scroll it too
        page.keyboard.press("ArrowRight")
        page.keyboard.press("End")
        # a function, not an expression string: the Content-Security-Policy forbids eval
        page.wait_for_function("() => document.querySelector('.portal-scroll').scrollLeft > 0")
        assert "high" in region.inner_text() and "back within the interval" in region.inner_text()  # in words
        for svg in page.locator("figure.chart svg").all():
            width = svg.bounding_box()["width"]
            assert 200 < width <= 390
        assert page.locator("figure.chart svg").count() == 2
        smallest = smallest_chart_text(page)  # legible on a phone at 100% zoom: no chart text under 11 px
        assert smallest["size"] >= 11 and smallest["height"] >= 11, smallest

        page.get_by_role("navigation", name="Indicator groups").get_by_role("link", name="Lipids").click()
        page.wait_for_url("**/portal/results?group=lipids")
        assert page.locator("figure.chart svg").count() == 1 and "4.41" in region.inner_text()
        assert "7.34" not in page.content()

        link = page.get_by_role("link", name=re.compile(r"My messages.*2 unread"))
        link.click()
        page.wait_for_url(f"{base}/portal/messages")
        assert page.locator("li.unread").count() == 2
        page.get_by_role("button", name=re.compile("^Mark as read")).first.click()
        assert page.locator("li.unread").count() == 1
        assert page.get_by_role("link", name=re.compile(r"My messages.*1 unread")).count() == 1
        page.get_by_role("button", name="Mark all as read").click()
        assert page.locator("li.unread").count() == 0
        assert page.get_by_role("link", name="My messages", exact=True).count() == 1
        assert page_width(page) <= 390
