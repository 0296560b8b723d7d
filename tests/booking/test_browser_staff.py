"""In the system Chromium: the front desk opens the day's schedule, checks a
booked patient in (an order of another day: warned, then a second click;
landing on their card), marks the exam completed, and the order's history
names who made both changes."""
import re
from datetime import time

import pytest

from tests.booking.conftest import open_day
from tests.browser import chromium, live_server
from tests.conftest import CHROMIUM, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def _booked(app, tenant, patient_id, package_id, day):
    from app.booking import services as booking
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db

    with app.app_context(), tenant_context(tenant.id):
        order = booking.book(package_id, day, time(7, 30), patients.get(patient_id), idempotency_key="desk-test")
        db.session.commit()
        return order.order_no


def test_front_desk_checks_in_and_completes(app, make_tenant, make_staff, make_patient, make_package):
    tenant = make_tenant()
    desk = make_staff(tenant, "front_desk")
    patient = make_patient(tenant, name="赵晓光")
    make_patient(tenant, name="钱不来")  # no booking: must not be on the schedule
    package = make_package(tenant, name="入职体检套餐")
    day = open_day()
    order_no = _booked(app, tenant, patient.id, package.id, day)
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        page.goto(f"{base}/login")
        page.get_by_role("button", name="English").click()
        page.fill("input[name=email]", desk.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(f"{base}/")

        page.get_by_role("link", name="Bookings").click()
        page.wait_for_url(f"{base}/booking/schedule*")
        page.get_by_label("Date").fill(day.isoformat())
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"**/booking/schedule?day={day.isoformat()}")
        row = page.locator("tr", has_text="赵晓光")
        assert row.count() == 1 and "Booked, pay at the clinic" in row.inner_text()
        assert "钱不来" not in page.content()
        row.get_by_role("link", name=order_no).click()
        page.wait_for_url(f"{base}/booking/orders/*")
        order_url = page.url

        page.get_by_role("button", name="Check in").click()
        warning = page.get_by_role("alert").inner_text()
        assert "not for today" in warning and str(day.year) in warning, warning
        assert page.evaluate("document.activeElement.id") == "confirm-title"  # keyboard users start at the question
        page.get_by_role("button", name="Check in anyway").click()
        page.wait_for_url(f"{base}/patients/*")  # the card opens for the visit
        assert "赵晓光" in page.locator("h1").inner_text()
        assert re.search(f"Order {order_no}: Checked in", page.get_by_role("status").first.inner_text())

        page.goto(f"{base}/booking/schedule?day={day.isoformat()}")
        assert "Checked in" in page.locator("tr", has_text="赵晓光").inner_text()
        page.locator("tr", has_text="赵晓光").get_by_role("link", name=order_no).click()
        page.wait_for_url(order_url)
        page.get_by_role("button", name="Mark completed").click()
        page.wait_for_url(order_url)
        assert f"Order {order_no}: Completed" in page.get_by_role("status").first.inner_text()
        assert page.get_by_role("button", name="Check in").count() == 0

        history = page.locator("table.list tbody tr")
        texts = [history.nth(i).inner_text() for i in range(history.count())]
        assert "Booked" in texts[0]
        assert any("Booked, pay at the clinic → Checked in" in t and "front_desk user" in t for t in texts), texts
        assert any("Checked in → Completed" in t and "front_desk user" in t for t in texts), texts
        assert "the patient, in the portal" in texts[0] and "#" not in " ".join(texts), texts
        assert texts.index(next(t for t in texts if "→ Checked in" in t)) < \
            texts.index(next(t for t in texts if "→ Completed" in t))
