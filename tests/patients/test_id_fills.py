"""A valid resident ID number fills the birth date and sex left empty, on the server and in the browser."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.patients import services
from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db
from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM
from tests.helpers import valid_id

FORM = {"name": "赵丽", "sex": "", "birth_date": "", "mobile": "13912340001", "source_channel": "walk_in",
        "consent": "y"}


def _error(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


def test_empty_birth_date_and_sex_come_from_the_id_number(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    number = valid_id(date(1983, 11, 4), "F")
    response = client.submit("/patients/new", dict(FORM, id_number=number))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.scalar(select(Patient).where(Patient.name == "赵丽"))
        assert (patient.birth_date, patient.sex) == (date(1983, 11, 4), "F")
        # the service does the same for any caller
        data = services.PatientData(name="钱军", sex="", birth_date=None, mobile="13912340002",
                                    id_number=valid_id(date(1990, 1, 31), "M"))
        assert services.validate(data).birth_date == date(1990, 1, 31) and data.sex == "M"


def test_a_contradiction_is_told_next_to_the_id_number(make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    number = valid_id(date(1983, 11, 4), "F")
    wrong_date = client.submit("/patients/new", dict(FORM, id_number=number, birth_date="1983-11-05", sex="F"))
    page = wrong_date.get_data(as_text=True)
    assert wrong_date.status_code == 400 and "1983-11-04" in _error(page, "id_number")
    assert 'value="1983-11-05"' in page  # the typing is kept
    wrong_sex = client.submit("/patients/new", dict(FORM, id_number=number, sex="M"))
    assert wrong_sex.status_code == 400 and "other sex" in _error(wrong_sex.get_data(as_text=True), "id_number")
    empty = client.submit("/patients/new", dict(FORM, id_number=""))  # no number: both still required
    assert _error(empty.get_data(as_text=True), "birth_date") and _error(empty.get_data(as_text=True), "sex")


@pytest.mark.browser
@pytest.mark.redis
def test_typing_the_id_number_fills_birth_date_and_sex(app, make_tenant):
    tenant = make_tenant()
    number = valid_id(date(1969, 7, 20), "M")
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        staff_sign_in(page, base, tenant.owner_email)
        page.goto(f"{base}/patients/new")
        page.locator("#id_number").press_sequentially(number[:17], delay=10)
        assert page.input_value("#birth_date") == "" and page.input_value("#sex") == ""
        page.locator("#id_number").press("End")
        page.locator("#id_number").press_sequentially(number[17])
        assert page.input_value("#birth_date") == "1969-07-20"
        assert page.input_value("#sex") == "M"
        assert page.locator("#id_number-filled").inner_text().strip()
        # a date typed by hand is not overwritten by the next number
        page.fill("#birth_date", "1970-01-01")
        page.fill("#id_number", "")
        page.locator("#id_number").press_sequentially(valid_id(date(1975, 3, 8), "F"), delay=5)
        assert page.input_value("#birth_date") == "1970-01-01" and page.input_value("#sex") == "F"
