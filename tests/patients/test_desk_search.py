"""At the desk: a scanned member card (its number, then Enter) opens the patient; the card carries the
QR code of its number; the search works from the keyboard, the tag filter after the results."""
import re

import pytest

from app.patients import qr
from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM
from tests.test_browser_accessibility import _audit


def test_enter_on_a_card_number_opens_the_card(make_tenant, make_staff, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, name="吕明")
    make_patient(tenant, name="吕明")  # a namesake: a name never opens a card directly
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)
    opened = desk.get(f"/patients?q={patient.card_no}&open=1")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/patients/{patient.id}")
    assert desk.get(f"/patients?q={patient.card_no.lower()}&open=1").status_code == 302
    # typing (htmx) lists; a name lists; an unknown card number says so
    typed = desk.get(f"/patients?q={patient.card_no}&open=1", headers={"HX-Request": "true"})
    assert typed.status_code == 200 and patient.name in typed.get_data(as_text=True)
    assert desk.get(f"/patients?q={patient.card_no}").status_code == 200
    named = desk.get("/patients?q=lvming&open=1")
    assert named.status_code == 200 and named.get_data(as_text=True).count('data-result>') == 2
    unknown = desk.get("/patients?q=" + patient.card_no[:-6] + "999999&open=1")
    assert unknown.status_code == 200 and "999999" in unknown.get_data(as_text=True)


def test_the_patient_page_shows_the_card_qr_code(make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    page = client_for(tenant, tenant.owner_email).get(f"/patients/{patient.id}").get_data(as_text=True)
    svg = re.search(r'<svg role="img"[^>]*class="qr".*?</svg>', page, re.S).group(0)
    assert patient.card_no in re.search(r"<title>(.*?)</title>", svg).group(1)
    expected = qr.card_svg(patient.card_no, "x")
    assert re.search(r'd="([^"]+)"', svg).group(1) == re.search(r'd="([^"]+)"', expected).group(1)
    assert "style" not in svg  # the Content-Security-Policy allows no inline style


@pytest.mark.browser
@pytest.mark.redis
def test_search_by_keyboard_and_by_scanner(app, make_tenant, make_patient):
    tenant = make_tenant()
    first = make_patient(tenant, name="吕明")
    second = make_patient(tenant, name="吕明华")
    make_patient(tenant, name="王五")
    with live_server(app) as port, chromium(CHROMIUM, bypass_csp=True) as browser:  # bypass: axe's script
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        staff_sign_in(page, base, tenant.owner_email)
        page.goto(f"{base}/patients")
        # the tag filter comes after the results, and each box sits beside its tag
        assert page.evaluate("""() => {
            const results = document.getElementById('results'), filter = document.getElementById('tag-filter');
            return !!(results.compareDocumentPosition(filter) & Node.DOCUMENT_POSITION_FOLLOWING);
        }""")
        page.locator("#tag-filter summary").click()  # a new clinic has the pack's tags
        for i in range(page.locator("#tag-filter input[type=checkbox]").count()):
            box = page.locator("#tag-filter input[type=checkbox]").nth(i).bounding_box()
            badge = page.locator("#tag-filter .badge").nth(i).bounding_box()
            assert abs((box["y"] + box["height"] / 2) - (badge["y"] + badge["height"] / 2)) < 8
            assert 0 <= badge["x"] - (box["x"] + box["width"]) < 24

        search = page.locator("#q")
        search.press_sequentially("lvm", delay=40)
        page.wait_for_url("**/patients?q=lvm")
        page.locator("#results tbody tr", has_text="王五").wait_for(state="detached")
        names = page.locator("#results a[data-result]")
        assert names.count() == 2
        order = [names.nth(i).inner_text() for i in range(2)]  # newest first
        violations: list[str] = []
        _audit(page, None, "the patient list with matches and the tag filter open", violations)
        assert violations == []
        search.press("ArrowDown")
        assert page.evaluate("document.activeElement.textContent") == order[0]
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.activeElement.textContent") == order[1]
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        wanted = second if order[1] == "吕明华" else first
        page.wait_for_url(f"{base}/patients/{wanted.id}")

        # a scanner types the card number and Enter, quickly
        page.goto(f"{base}/patients")
        page.locator("#q").press_sequentially(first.card_no + "\n", delay=5)
        page.wait_for_url(f"{base}/patients/{first.id}")
        assert page.locator("svg.qr").is_visible()
