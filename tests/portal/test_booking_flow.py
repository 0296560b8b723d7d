"""The shop, the calendar (htmx fragments), booking, and the patient's orders."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.booking.models import Order, SlotCounter
from tests.booking.conftest import open_day
from tests.clock import clinic_today

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)

MOBILE = "13912340000"


def _idem(page: str) -> str:
    return re.search(r'name="idem"[^>]*value="([^"]+)"', page).group(1)


def test_shop_lists_filters_and_shows_the_calendar(make_tenant, make_package, client_for):
    tenant = make_tenant()
    general = make_package(tenant, name="常规套餐", price="299")
    make_package(tenant, name="女性专属", sex="F", category="women")
    client = client_for(tenant)
    page = client.get("/shop").get_data(as_text=True)
    assert "常规套餐" in page and "女性专属" in page and "¥299.00" in page
    men = client.get("/shop?sex=M", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "常规套餐" in men and "女性专属" not in men and "<html" not in men
    assert "常规套餐" not in client.get("/shop?category=women").get_data(as_text=True)
    detail = client.get(f"/shop/packages/{general.id}").get_data(as_text=True)
    day = open_day()
    assert 'id="calendar"' in detail and day.isoformat() in detail and "空腹血糖" in detail
    next_month = f"{(day.replace(day=1) + timedelta(days=32)):%Y-%m}"
    fragment = client.get(f"/shop/packages/{general.id}?month={next_month}&part=calendar",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<section id="calendar"') and next_month in fragment
    slots = client.get(f"/shop/packages/{general.id}?day={day.isoformat()}&part=slots",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert slots.startswith('<section id="slots"') and 'value="07:30"' in slots and "20" in slots


def test_book_sign_in_confirm_details_and_resubmit(make_tenant, make_package, client_for, patient_client, as_tenant):
    tenant = make_tenant()
    package = make_package(tenant, name="入职套餐")
    day = open_day()
    anonymous = client_for(tenant)
    response = anonymous.get(f"/shop/packages/{package.id}/book?day={day}&slot=07:30")
    assert response.status_code == 302 and "/portal/sign-in?next=" in response.headers["Location"]
    client = patient_client(tenant, MOBILE)
    form = client.get(f"/shop/packages/{package.id}/book?day={day}&slot=07:30").get_data(as_text=True)
    assert "139****0000" not in form and MOBILE in form  # a new number: details to confirm
    data = {"csrf_token": client.token, "day": day.isoformat(), "slot": "07:30", "idem": _idem(form),
            "name": "陈静", "sex": "F", "birth_date": "1990-02-30", "consent": "y"}
    bad = client.post(f"/shop/packages/{package.id}/book", data=data)
    assert bad.status_code == 400 and "陈静" in bad.get_data(as_text=True)  # typing kept
    data["birth_date"] = "1990-02-03"
    data["id_number"] = "110101199002031234"
    bad = client.post(f"/shop/packages/{package.id}/book", data=data)
    assert bad.status_code == 400 and 'id="id_number-error"' in bad.get_data(as_text=True)
    data["id_number"] = ""
    done = client.post(f"/shop/packages/{package.id}/book", data=data)
    assert done.status_code == 302, done.get_data(as_text=True)[-1500:]
    order_url = done.headers["Location"]
    again = client.post(f"/shop/packages/{package.id}/book", data=data)  # the same form, sent again
    assert again.headers["Location"] == order_url
    page = client.get(order_url).get_data(as_text=True)
    assert "入职套餐" in page and day.strftime("%Y") in page
    with as_tenant(tenant):
        from tenants.db import db

        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(SlotCounter.booked)) == 1
    # the next booking skips the details: the account is linked to the new card
    second = client.get(f"/shop/packages/{package.id}/book?day={day}&slot=08:30").get_data(as_text=True)
    assert "陈静" in second and 'name="name"' not in second


def test_other_patients_and_other_clinics_orders_are_not_found(make_tenant, make_patient, make_package,
                                                                client_for, patient_client, as_tenant):
    a, b = make_tenant(), make_tenant()
    package_a, package_b = make_package(a), make_package(b, name="乙方套餐")
    mine = make_patient(a, name="甲", mobile="13911110000")
    theirs = make_patient(a, name="乙", mobile="13922220000")
    day = open_day()
    with as_tenant(a):
        from app.booking import services
        from app.patients import services as patients
        from tenants.db import db

        their_order = services.book(package_a.id, day, open_slot(), patients.get(theirs.id), idempotency_key="x")
        my_order = services.book(package_a.id, day, open_slot(), patients.get(mine.id), idempotency_key="y")
        db.session.commit()
        their_id, my_id = their_order.id, my_order.id
    client = patient_client(a, "13911110000")
    assert client.get(f"/portal/orders/{my_id}").status_code == 200
    assert client.get(f"/portal/orders/{their_id}").status_code == 404
    assert client.post(f"/portal/orders/{their_id}/cancel", data={"csrf_token": client.token}).status_code == 404
    assert client.get(f"/portal/orders/{their_id}/reschedule").status_code == 404
    assert client.get(f"/shop/packages/{package_b.id}").status_code == 404
    assert "乙方套餐" not in client.get("/shop").get_data(as_text=True)
    listing = client.get("/portal").get_data(as_text=True)
    assert my_order.order_no in listing and their_order.order_no not in listing


def open_slot():
    from tests.booking.conftest import FIRST_SLOT

    return FIRST_SLOT


def test_refusals_are_explained(make_tenant, make_patient, make_package, patient_client):
    tenant = make_tenant()
    make_patient(tenant, name="周杰", sex="M", mobile=MOBILE)
    women = make_package(tenant, name="女性套餐", sex="F")
    client = patient_client(tenant, MOBILE)
    day = open_day()
    page = client.get(f"/shop/packages/{women.id}/book?day={day}&slot=07:30")
    assert page.status_code == 409 and 'role="alert"' in page.get_data(as_text=True)
    far = clinic_today() + timedelta(days=90)
    form = client.get(f"/shop/packages/{women.id}/book?day={far}&slot=07:30").get_data(as_text=True)
    response = client.post(f"/shop/packages/{women.id}/book",
                           data={"csrf_token": client.token, "day": far.isoformat(), "slot": "07:30",
                                 "idem": _idem(form)})
    assert response.status_code == 409


def test_patient_reschedules_and_cancels(make_tenant, make_patient, make_package, patient_client, as_tenant):
    tenant = make_tenant()
    make_patient(tenant, name="吴刚", mobile=MOBILE)
    package = make_package(tenant)
    client = patient_client(tenant, MOBILE)
    day, later = open_day(), open_day(5)
    form = client.get(f"/shop/packages/{package.id}/book?day={day}&slot=07:30").get_data(as_text=True)
    done = client.post(f"/shop/packages/{package.id}/book", data={
        "csrf_token": client.token, "day": day.isoformat(), "slot": "07:30", "idem": _idem(form)})
    order_url = done.headers["Location"]
    page = client.get(order_url + "/reschedule").get_data(as_text=True)
    assert 'id="calendar"' in page
    slots = client.get(order_url + f"/reschedule?day={later}&part=slots", headers={"HX-Request": "true"})
    assert 'method="post"' in slots.get_data(as_text=True)
    moved = client.post(order_url + "/reschedule", data={"csrf_token": client.token, "day": later.isoformat(),
                                                          "slot": "08:30"})
    assert moved.status_code == 302
    assert "08:30" in client.get(order_url).get_data(as_text=True)
    asked = client.post(order_url + "/cancel", data={"csrf_token": client.token})  # no confirm=1: asks
    assert asked.status_code == 200 and 'name="confirm" type="hidden" value="1"' in asked.get_data(as_text=True)
    cancelled = client.post(order_url + "/cancel", data={"csrf_token": client.token, "confirm": "1"})
    assert cancelled.status_code == 302
    with as_tenant(tenant):
        from tenants.db import db

        assert db.session.scalar(select(Order.status)) == "cancelled"
        assert set(db.session.scalars(select(SlotCounter.booked))) == {0}
