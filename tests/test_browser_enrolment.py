"""In the system Chromium: sign in, open a card, find the patient by pinyin
initials, print the member card and read the PDF."""
import subprocess
from datetime import date

import pytest

from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM
from tests.helpers import valid_id

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_enrol_find_and_print(app, make_tenant, make_patient, tmp_path):
    tenant = make_tenant("康宁健康管理中心")
    make_patient(tenant, name="王五")  # someone the search must filter out
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        staff_sign_in(page, base, tenant.owner_email)

        page.goto(f"{base}/patients/new")
        page.fill("input[name=name]", "司马光明")
        page.select_option("select[name=sex]", "M")
        page.fill("input[name=birth_date]", "1968-02-29")
        page.fill("input[name=mobile]", "13811112222")
        page.fill("input[name=id_number]", valid_id(date(1968, 2, 29), "M"))
        page.check("input[name=consent]")
        page.click("form button[type=submit].primary")
        page.wait_for_url(f"{base}/patients/*")
        card_no = page.locator("h1 small").inner_text().strip()
        assert card_no.endswith("000002")

        page.goto(f"{base}/patients")
        page.locator("#q").press_sequentially("smgm", delay=60)
        page.wait_for_url("**/patients?q=smgm")  # in the address, so back and reload keep it
        page.locator("#results tbody tr", has_text="王五").wait_for(state="detached")
        row = page.locator("#results tbody tr", has_text="司马光明")
        assert row.count() == 1
        row.get_by_role("link", name="司马光明").click()
        page.wait_for_url(f"{base}/patients/*")

        page.click("button[hx-post$='/card']")
        link = page.locator("#card-job a[download]")
        link.wait_for(timeout=30_000)
        with page.expect_download() as download_info:
            link.click()
        pdf = tmp_path / "card.pdf"
        download_info.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "康宁健康管理中心" in text and "司马光明" in text and card_no in text
