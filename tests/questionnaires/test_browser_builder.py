"""In the system Chromium: an admin builds a two-question questionnaire with branching, by keyboard and mouse,
and previews it at phone width, where the branch shows and hides as the first answer changes."""
import pytest
from playwright.sync_api import expect

from tests.browser import chromium, live_server, overflowing, staff_sign_in
from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres]


def test_build_a_branching_questionnaire_and_preview_it_on_a_phone(app, make_tenant):
    clinic = make_tenant()
    with live_server(app) as port, chromium(CHROMIUM) as desk:
        base = f"http://{clinic.host}:{port}"
        page = desk.new_page()
        staff_sign_in(page, base, clinic.owner_email)
        page.get_by_role("button", name="English").click()
        page.goto(f"{base}/questionnaires")
        page.get_by_role("link", name="New questionnaire").click()
        page.get_by_label("Key", exact=True).focus()
        page.keyboard.type("smoke_check")
        page.keyboard.press("Tab")
        page.get_by_label("Kind").select_option("lifestyle")
        page.get_by_label("Title (Chinese)").fill("吸烟情况")
        page.get_by_label("Title (English)").focus()
        page.keyboard.type("Smoking check")
        page.keyboard.press("Enter")  # submits the form
        page.wait_for_url("**/builder")

        # the first question's form swaps in place (htmx)
        page.locator("#bq-q1-edit").click()
        page.locator("#bq-q1-key").wait_for()
        page.locator("#bq-q1-key").fill("smoker")
        page.locator("#bq-q1-text-zh").fill("您吸烟吗？")
        page.locator("#bq-q1-text-en").fill("Do you smoke?")
        for i, (code, zh, en) in enumerate((("yes", "是", "Yes"), ("no", "否", "No"))):
            page.locator(f"#bq-q1-opt-{i}-code").fill(code)
            page.locator(f"#bq-q1-opt-{i}-zh").fill(zh)
            page.locator(f"#bq-q1-opt-{i}-en").fill(en)
        expect(page.locator("#bq-q1-min")).to_be_hidden()  # a choice question: the number settings are hidden
        page.get_by_role("button", name="Save the question").click()
        page.locator("#bq-smoker-edit").wait_for()
        assert "Do you smoke?" in page.locator("#bq-smoker").inner_text()

        # a number question shown only when the answer is "yes"
        page.get_by_label("New question of type").select_option("number")
        page.get_by_role("button", name="Add a question").click()
        page.locator("#bq-q1-key").wait_for()
        expect(page.locator("#bq-q1-opt-0-code")).to_be_hidden()
        page.locator("#bq-q1-key").fill("per_day")
        page.locator("#bq-q1-text-zh").fill("每天几支？")
        page.locator("#bq-q1-text-en").fill("How many a day?")
        page.locator("#bq-q1-max").fill("100")
        page.locator("#bq-q1-cond-question").select_option("smoker")
        page.locator("#bq-q1-cond-op").select_option("eq")
        page.locator("#bq-q1-cond-value").focus()
        page.keyboard.type("yes")
        page.get_by_role("button", name="Save the question").click()
        page.locator("#bq-per_day-edit").wait_for()
        assert "smoker" in page.locator("#bq-per_day").inner_text()

        # the preview at phone width
        phone = desk.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        preview_url = page.get_by_role("link", name="Preview on a phone").get_attribute("href")
        phone.add_cookies(desk.cookies())  # the same signed-in admin
        view = phone.new_page()
        view.goto(base + preview_url)
        assert not overflowing(view), overflowing(view)
        expect(view.locator("#q-per_day")).to_be_hidden()
        view.get_by_label("Yes", exact=True).check()
        expect(view.locator("#q-per_day")).to_be_visible()
        view.get_by_label("No", exact=True).check()
        expect(view.locator("#q-per_day")).to_be_hidden()
