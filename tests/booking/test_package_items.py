"""Package items are chosen from the indicator catalogue by name (Chinese, English, code or pinyin),
shown by name with the code beside; items stored before keep working."""
import re

import pytest
from sqlalchemy import select

from app.booking import services
from app.booking.models import ExamPackage
from tenants.db import db
from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM
from tests.test_browser_accessibility import _audit


def test_the_catalogue_search_finds_by_every_name(make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    for query in ("空腹血糖", "血糖", "fasting glu", "14771", "kongfuxuetang", "kfxt"):
        page = client.get(f"/booking/admin/indicator-search?item_q={query}").get_data(as_text=True)
        assert "14771-0" in page and "空腹血糖" in page, query
    none = client.get("/booking/admin/indicator-search?item_q=zzzz").get_data(as_text=True)
    assert "14771-0" not in none and "zzzz" in none
    row = client.get("/booking/admin/package-item?code=14771-0").get_data(as_text=True)
    assert 'name="item_codes" value="14771-0"' in row and 'value="空腹血糖"' in row
    assert client.get("/booking/admin/package-item?code=9999-9").status_code == 404


def test_items_stored_before_show_by_name_and_save_again(make_tenant, client_for, as_tenant):
    tenant = make_tenant()
    with as_tenant(tenant):
        package = services.save_package(services.PackageData(name="旧套餐", price="100",
                                                             items="血脂: 14647-2, 14646-4\n心电图"))
        db.session.commit()
        package_id = package.id
    client = client_for(tenant, tenant.owner_email)
    page = client.get(f"/booking/admin/packages/{package_id}/edit").get_data(as_text=True)
    assert 'value="血脂"' in page and 'value="14647-2,14646-4"' in page and "总胆固醇" in page
    assert 'value="心电图"' in page
    form = {"name": "旧套餐", "category": "general", "price": "100", "sex": ""}
    keys = re.findall(r'name="item_key" value="([^"]+)"', page)
    names = re.findall(r'name="item_name" value="([^"]*)"', page)
    codes = re.findall(r'name="item_codes" value="([^"]*)"', page)
    saved = client.submit(f"/booking/admin/packages/{package_id}/edit",
                          dict(form, item_key=keys, item_name=names, item_codes=codes, item_remove=[keys[1]]))
    assert saved.status_code == 302
    with as_tenant(tenant):
        assert db.session.get(ExamPackage, (tenant.id, package_id)).items == [
            {"name": "血脂", "codes": ["14647-2", "14646-4"]}]
    empty = client.submit(f"/booking/admin/packages/{package_id}/edit",
                          dict(form, item_key=["r0"], item_name=["血脂"], item_codes=["14647-2"], item_remove=["r0"]))
    assert empty.status_code == 400 and 'id="items-error"' in empty.get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.redis
def test_admin_adds_an_item_by_its_chinese_name(app, make_tenant, as_tenant):
    tenant = make_tenant()
    with live_server(app) as port, chromium(CHROMIUM, bypass_csp=True) as browser:  # bypass: axe's script
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        staff_sign_in(page, base, tenant.owner_email)
        page.goto(f"{base}/booking/admin/packages/new")
        page.fill("#name", "糖尿病筛查")
        page.fill("#price", "199")
        page.locator("#item-search").press_sequentially("空腹血糖", delay=30)
        page.locator("#item-search").press("Enter")  # runs the search, does not send the form
        match = page.locator("#item-matches button", has_text="空腹血糖")
        match.wait_for()
        assert "14771-0" in match.inner_text()
        match.click()
        row = page.locator("#item-rows .item-row")
        row.wait_for()
        assert row.locator("input[name=item_name]").input_value() == "空腹血糖"
        assert "14771-0" in row.inner_text()
        violations: list[str] = []
        _audit(page, None, "a package with an item added", violations)  # the matches and the new row
        assert violations == []
        page.fill("#item-name-other", "心电图")
        page.click("form button[type=submit].primary")
        page.wait_for_url(f"{base}/booking/admin/packages")
    with as_tenant(tenant):
        package = db.session.scalar(select(ExamPackage).where(ExamPackage.name == "糖尿病筛查"))
        assert package.items == [{"name": "空腹血糖", "codes": ["14771-0"]}, {"name": "心电图", "codes": []}]
