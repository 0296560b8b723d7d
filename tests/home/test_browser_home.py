"""In the system Chromium: each role signs in and lands on its own home page; the front desk's search is
focused and a check-in swaps its row; the health manager reveals a number; the menu marks where you are."""
import re

import pytest

from app.seed import DEMO_PASSWORD
from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def browse(app, demo):
    with live_server(app) as port, chromium(CHROMIUM) as context:
        base = f"http://{demo.host}:{port}"

        def sign_in(role):
            context.clear_cookies()
            page = context.new_page()
            staff_sign_in(page, base, demo.emails[role], DEMO_PASSWORD)
            return page

        yield sign_in


def _focus_lands_on(page, element_id: str) -> None:
    """Chromium applies autofocus a moment after the page is shown: wait for it (fails after 5 s)."""
    page.wait_for_function("(id) => document.activeElement && document.activeElement.id === id", arg=element_id,
                           timeout=5000)


def test_front_desk_home_focuses_search_and_checks_in_with_one_click(browse):
    page = browse("front_desk")
    _focus_lands_on(page, "home-q")
    assert page.title().startswith("工作台")
    assert page.locator("[id^=arrival-]").count() == 6
    button = page.get_by_role("button", name=re.compile("^为.+签到$")).first
    row_id = button.locator("xpath=ancestor::tr").get_attribute("id")
    button.click()
    page.locator(f"#{row_id}", has_text="已到检").wait_for()
    assert page.locator(f"#{row_id} button").count() == 0
    current = page.locator("nav.menu a[aria-current=page]")
    assert current.count() == 1 and current.inner_text().startswith("工作台")


def test_doctor_home_shows_alerts_and_patients(browse):
    page = browse("doctor")
    assert page.get_by_role("heading", name=re.compile("未处理的异常提醒")).is_visible()
    assert page.get_by_role("heading", name=re.compile("本周有新异常结果的我的患者")).is_visible()
    assert page.locator("table .tier-critical").count() >= 1


def test_health_manager_home_reveals_a_phone_as_a_tel_link(browse):
    page = browse("health_manager")
    assert page.get_by_role("heading", name=re.compile("今日到期随访")).is_visible()
    phone = page.locator("#today-h ~ div .phone").first
    assert re.search(r"\*\*\*\*\d{4}", phone.inner_text())
    phone.get_by_role("button").click()
    link = page.locator("#today-h ~ div .phone a[href^='tel:']").first
    link.wait_for()
    assert re.fullmatch(r"tel:1\d{10}", link.get_attribute("href"))


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_home_is_the_clinic_dashboard(browse, role):
    page = browse(role)
    assert page.locator("#clinic-dashboard").is_visible()
    page.locator("#figure-tags[aria-labelledby] details").wait_for()  # a figure loaded on its own, in place
    assert page.locator("#figure-tags[aria-busy]").count() == 0
    page.get_by_role("link", name="设置", exact=True).click()
    page.wait_for_url(re.compile(r"/settings$"))
    assert page.get_by_role("link", name="API 令牌").count() + page.get_by_role("link", name="API tokens").count() >= 1
    assert page.locator("nav.menu a[aria-current=page]").inner_text() == "设置"


def test_menu_works_by_keyboard_on_a_narrow_screen(browse):
    page = browse("front_desk")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(page.url)
    patients = page.locator("nav.menu a", has_text="患者")
    patients.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/patients$"))
    assert page.locator("nav.menu a[aria-current=page]").inner_text() == "患者"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_front_desk_scans_a_member_card_into_the_search_box_and_the_booking_is_checked_in(browse):
    page = browse("front_desk")
    button = page.get_by_role("button", name=re.compile("^为.+签到$")).first
    row = button.locator("xpath=ancestor::tr")
    row_id = row.get_attribute("id")
    who = row.locator("td").nth(1)
    name, card_no = who.locator("a").inner_text(), who.locator("small").inner_text()
    page.keyboard.type(card_no)  # the search box has the focus; a USB scanner types the code and Enter
    page.keyboard.press("Enter")
    page.locator(".flash", has_text=name).wait_for()
    assert "已到检" in page.locator(".flash").inner_text()
    assert page.locator(f"#{row_id}.just-done", has_text="已到检").count() == 1
    assert page.locator(f"#{row_id} button").count() == 0
    _focus_lands_on(page, "home-q")  # ready for the next card
