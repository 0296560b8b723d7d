"""The staff order page: cancelling asks first, checking in an order of
another day warns and needs a second click (today's: one click), and the
history names who did what."""
from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from app.booking import services
from app.booking.models import Order
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, at_clinic, open_day
from tests.clock import clinic_today

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)


@pytest.fixture
def desk(make_tenant, make_staff, make_patient, make_package, client_for):
    tenant = make_tenant()
    staff = make_staff(tenant, "front_desk")
    patient = make_patient(tenant, name="孙丽", sex="F")
    package = make_package(tenant, price="500")
    client = client_for(tenant, staff.email)
    client.submit("/lang/en")
    return tenant, staff, patient, package, client


def _book(tenant, patient, package, day, as_tenant, **kw):
    from app.patients import services as patients

    with as_tenant(tenant):
        order = services.book(package.id, day, FIRST_SLOT, patients.get(patient.id),
                              idempotency_key=f"k-{day}", **kw)
        db.session.commit()
        return order.id


def _status(tenant, order_id, as_tenant) -> str:
    with as_tenant(tenant):
        return db.session.scalar(select(Order.status).where(Order.id == order_id))


def test_cancelling_asks_first_and_the_history_names_the_staff_member(desk, as_tenant, make_staff):
    tenant, staff, patient, package, client = desk
    order_id = _book(tenant, patient, package, open_day(), as_tenant)
    url = f"/booking/orders/{order_id}"
    asked = client.submit(f"{url}/action/cancel")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Cancel this booking?" in page and "Yes, cancel the booking" in page
    assert 'name="confirm" type="hidden" value="1"' in page and f'href="{url}">No, keep it' in page
    assert 'autofocus' in page and "孙丽" in page
    assert _status(tenant, order_id, as_tenant) == "pay_at_clinic"
    assert client.post(f"{url}/action/cancel", data={"confirm": "1"}).status_code == 400  # no CSRF token
    done = client.submit(f"{url}/action/cancel", {"confirm": "1", "note": "电话取消"})
    assert done.status_code == 302 and done.headers["Location"] == url
    assert _status(tenant, order_id, as_tenant) == "cancelled"
    history = client.get(url).get_data(as_text=True).split("<h2>History</h2>")[1]
    assert "front_desk user" in history and "电话取消" in history and "the patient, in the portal" in history
    assert f"#{staff.id}" not in history and "#" not in history
    # a cancelled order is not asked about again: the refusal is said
    again = client.submit(f"{url}/action/cancel", {"confirm": "1"})
    assert again.status_code == 302 and "can no longer be cancelled" in client.get(url).get_data(as_text=True)


def test_todays_order_checks_in_with_one_click(desk, as_tenant):
    tenant, staff, patient, package, client = desk
    today = clinic_today()
    with as_tenant(tenant):
        services.add_override(today, FIRST_SLOT, FIRST_SLOT.replace(hour=8), 5)  # today may be a Sunday
        db.session.commit()
    order_id = _book(tenant, patient, package, today, as_tenant, now=at_clinic(today - timedelta(days=3), 10))
    response = client.submit(f"/booking/orders/{order_id}/action/check_in")
    assert response.status_code == 302 and response.headers["Location"] == f"/patients/{patient.id}"
    assert _status(tenant, order_id, as_tenant) == "checked_in"


def test_checking_in_another_days_order_warns_and_needs_a_second_click(desk, as_tenant):
    tenant, staff, patient, package, client = desk
    day = open_day()
    order_id = _book(tenant, patient, package, day, as_tenant)
    url = f"/booking/orders/{order_id}"
    warned = client.submit(f"{url}/action/check_in")
    page = warned.get_data(as_text=True)
    assert warned.status_code == 200 and "Booked for another day" in page
    booked_for, today = (format_date(d, "full", locale="en") for d in (day, clinic_today()))
    assert f"This order is booked for {booked_for}, not for today ({today})." in page
    assert "Check in anyway" in page and f'href="{url}">Do not check in' in page
    assert _status(tenant, order_id, as_tenant) == "pay_at_clinic"
    done = client.submit(f"{url}/action/check_in", {"confirm": "1"})
    assert done.status_code == 302 and done.headers["Location"] == f"/patients/{patient.id}"
    assert _status(tenant, order_id, as_tenant) == "checked_in"
    history = client.get(url).get_data(as_text=True).split("<h2>History</h2>")[1]
    assert f"booked for {day.isoformat()}" in history and "front_desk user" in history
    with as_tenant(tenant):
        from app.core.audit import AuditEvent

        audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "order_changed"))
        assert audit.detail["booked_for"] == day.isoformat() and audit.detail["after"] == "checked_in"


def test_history_says_system_for_jobs_and_names_no_bare_id(desk, as_tenant):
    tenant, staff, patient, package, client = desk
    order_id = _book(tenant, patient, package, open_day(), as_tenant)
    with as_tenant(tenant):
        order = services.get_order(order_id)
        services.orders._event(order, "status", order.status, order.status, "system", None, "job")
        services.orders._event(order, "payment", order.status, order.status, "staff", 999, "gone")
        db.session.commit()
    history = client.get(f"/booking/orders/{order_id}").get_data(as_text=True).split("<h2>History</h2>")[1]
    assert "system" in history and "a staff member" in history and "999" not in history
