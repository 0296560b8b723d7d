"""Admins manage packages and capacity; the front desk runs the day."""
from datetime import time

import pytest
from sqlalchemy import select

from app.booking import services
from app.booking.models import ExamPackage, Order
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, open_day

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)


def test_package_form_names_bad_fields_and_keeps_typing(make_tenant, client_for, as_tenant):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    response = client.submit("/booking/admin/packages/new", {
        "name": "心脑血管套餐", "category": "senior", "price": "12.345", "sex": "",
        "item_key": ["r0"], "item_name": ["血脂"], "item_codes": ["9999-9"], "age_min": "60", "age_max": "40"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="price-error"' in page and 'id="items-error"' in page and "9999-9" in page
    assert 'id="age_max-error"' in page and 'value="心脑血管套餐"' in page
    response = client.submit("/booking/admin/packages/new", {
        "name": "心脑血管套餐", "category": "senior", "price": "1,280.50",
        "item_key": ["n1", "other"], "item_name": ["血脂", "心电图"], "item_codes": ["14647-2", ""],
        "sex": "", "age_min": "40", "fasting": "y", "preparation": "穿宽松衣物"})
    assert response.status_code == 302
    with as_tenant(tenant):
        package = db.session.scalar(select(ExamPackage))
        assert package.price_fen == 128050 and package.fasting
        assert package.items == [{"name": "血脂", "codes": ["14647-2"]}, {"name": "心电图", "codes": []}]
        package_id = package.id
    edit = client.get(f"/booking/admin/packages/{package_id}/edit").get_data(as_text=True)
    assert "1280.50" in edit and 'value="血脂"' in edit and "14647-2" in edit
    assert "¥1,280.50" in client.get("/booking/admin/packages").get_data(as_text=True)
    client.submit(f"/booking/admin/packages/{package_id}/active")
    assert client_for(tenant).get(f"/shop/packages/{package_id}").status_code == 404


def test_capacity_page_sets_rules_slots_and_closed_days(make_tenant, client_for, as_tenant):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    page = client.get("/booking/admin/capacity").get_data(as_text=True)
    assert "07:30" in page and 'value="60"' in page
    bad = client.submit("/booking/admin/capacity", {"rules-horizon_days": "0", "rules-cutoff_days": "1",
                                                    "rules-cutoff_time": "18:00", "rules-cancel_cutoff_days": "1",
                                                    "rules-cancel_cutoff_time": "12:00"})
    assert bad.status_code == 400 and 'id="rules-horizon_days-error"' in bad.get_data(as_text=True)
    ok = client.submit("/booking/admin/capacity", {"rules-horizon_days": "30", "rules-cutoff_days": "1",
                                                   "rules-cutoff_time": "18:00", "rules-cancel_cutoff_days": "2",
                                                   "rules-cancel_cutoff_time": "12:00", "rules-daily_capacity": "50"})
    assert ok.status_code == 302
    assert client.submit("/booking/admin/capacity/slots", {"slot-weekday": "6", "slot-start": "09:00",
                                                           "slot-end": "08:00",
                                                           "slot-capacity": "5"}).status_code == 400
    assert client.submit("/booking/admin/capacity/slots", {"slot-weekday": "6", "slot-start": "09:00",
                                                           "slot-end": "10:00",
                                                           "slot-capacity": "5"}).status_code == 302
    day = open_day(10)
    assert client.submit("/booking/admin/capacity/closed", {"closed-day": day.isoformat(),
                                                            "closed-reason": "国庆"}).status_code == 302
    assert client.submit("/booking/admin/capacity/overrides", {"day-day": day.isoformat(), "day-start": "07:30",
                                                               "day-end": "08:00",
                                                               "day-capacity": "0"}).status_code == 302
    with as_tenant(tenant):
        rules = services.settings()
        assert (rules.horizon_days, rules.cancel_cutoff_days, rules.daily_capacity) == (30, 2, 50)
        assert services.availability.slot_on(day, time(9)) is None  # closed
        assert any(s.weekday == 6 for s in services.availability.templates())


def test_front_desk_checks_in_completes_and_takes_payment(make_tenant, make_staff, make_patient, make_package,
                                                          client_for, as_tenant):
    tenant = make_tenant()
    desk = make_staff(tenant, "front_desk")
    patient = make_patient(tenant, name="孙丽", sex="F")
    package = make_package(tenant, price="500")
    day = open_day()
    with as_tenant(tenant):
        from app.patients import services as patients

        order = services.book(package.id, day, FIRST_SLOT, patients.get(patient.id), idempotency_key="desk")
        db.session.commit()
        order_id = order.id
    client = client_for(tenant, desk.email)
    assert client.get("/booking/admin/packages").status_code == 403
    schedule = client.get(f"/booking/schedule?day={day}").get_data(as_text=True)
    assert "孙丽" in schedule and "07:30" in schedule and "1 of 20" in schedule.replace("1 / 20", "1 of 20")
    paid = client.submit(f"/booking/orders/{order_id}/paid", {"reference": "POS-778"})
    assert paid.status_code == 302
    warned = client.submit(f"/booking/orders/{order_id}/action/check_in")  # booked for another day: asks first
    assert warned.status_code == 200 and 'name="confirm" type="hidden" value="1"' in warned.get_data(as_text=True)
    with as_tenant(tenant):
        assert db.session.scalar(select(Order.status)) == "paid"
    response = client.submit(f"/booking/orders/{order_id}/action/check_in", {"confirm": "1"})
    assert response.status_code == 302 and response.headers["Location"] == f"/patients/{patient.id}"
    client.submit(f"/booking/orders/{order_id}/action/complete")
    page = client.get(f"/booking/orders/{order_id}").get_data(as_text=True)
    assert "POS-778" in page
    with as_tenant(tenant):
        order = db.session.scalar(select(Order))
        assert order.status == "completed" and order.paid_at is not None
        assert [e.to_status for e in services.orders.events(order)] == ["pay_at_clinic", "paid", "checked_in",
                                                                         "completed"]
    assert client.submit(f"/booking/orders/{order_id}/action/no_show").status_code == 302  # refused, explained
    assert client.submit(f"/booking/orders/{order_id}/action/bogus").status_code == 404
