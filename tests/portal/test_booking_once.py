"""The portal: a booking made once (a new form for a package and day booked
already answers with that booking), packages offered by eligibility before
any calendar, cancelling after a confirmation, rescheduling onto a day
with that package refused."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.booking.models import Order, SlotCounter
from tests.booking.conftest import open_day
from tests.clock import clinic_today

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)

MOBILE = "13912340077"


def _idem(page: str) -> str:
    return re.search(r'name="idem"[^>]*value="([^"]+)"', page).group(1)


def _english(client):
    client.post("/lang/en", data={"csrf_token": client.token})
    return client


def _book(client, package_id, day, slot="07:30"):
    form = client.get(f"/shop/packages/{package_id}/book?day={day}&slot={slot}").get_data(as_text=True)
    return client.post(f"/shop/packages/{package_id}/book", data={
        "csrf_token": client.token, "day": day.isoformat(), "slot": slot, "idem": _idem(form)})


def test_back_and_a_new_form_answer_with_the_booking_there_is(make_tenant, make_patient, make_package,
                                                              patient_client, as_tenant):
    tenant = make_tenant()
    make_patient(tenant, name="吴刚", mobile=MOBILE)
    package = make_package(tenant, name="入职套餐")
    client = _english(patient_client(tenant, MOBILE))
    day = open_day()
    done = _book(client, package.id, day)
    assert done.status_code == 302
    order_url = done.headers["Location"]
    first = client.get(order_url).get_data(as_text=True)
    assert "Booked: 入职套餐" in first
    # Back: the form again (a new key) says the booking exists, and its button answers with it
    form = client.get(f"/shop/packages/{package.id}/book?day={day}&slot=08:30")
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and "You have booked this package for this date already" in page
    assert f'href="{order_url}"' in page and "07:30" in page
    again = client.post(f"/shop/packages/{package.id}/book", data={
        "csrf_token": client.token, "day": day.isoformat(), "slot": "08:30", "idem": _idem(page)})
    assert again.status_code == 302 and again.headers["Location"] == order_url
    shown = client.get(order_url).get_data(as_text=True)
    assert "You have booked 入职套餐 on" in shown and "Nothing new was booked" in shown and "07:30" in shown
    # the package page names the booking too
    assert f'href="{order_url}"' in client.get(f"/shop/packages/{package.id}").get_data(as_text=True)
    with as_tenant(tenant):
        from tenants.db import db

        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(func.sum(SlotCounter.booked))) == 1


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)  # years % 4 == 0: a 29 February maps to one


def test_a_signed_in_patient_is_offered_only_what_they_can_book(make_tenant, make_patient, make_package,
                                                                client_for, patient_client):
    tenant = make_tenant()
    today = clinic_today()
    make_patient(tenant, name="周杰", sex="M", mobile=MOBILE, birth_date=_years_before(today, 48) + timedelta(days=1))
    general = make_package(tenant, name="常规套餐")
    women = make_package(tenant, name="女性专属", sex="F", category="women")
    from48 = make_package(tenant, name="四十八岁起", age_min=48)
    anonymous = client_for(tenant)
    listing = anonymous.get("/shop").get_data(as_text=True)
    assert all(name in listing for name in ("常规套餐", "女性专属", "四十八岁起")) and "hidden-packages" not in listing
    assert 'id="calendar"' in anonymous.get(f"/shop/packages/{women.id}").get_data(as_text=True)

    client = _english(patient_client(tenant, MOBILE))
    listing = client.get("/shop").get_data(as_text=True)
    offered = re.sub(r'<details class="notice hidden-packages">.*?</details>', "", listing, flags=re.S)
    assert "常规套餐" in offered and "女性专属" not in offered and "四十八岁起" not in offered
    assert "2 packages are not shown: by sex or age, you cannot book them." in listing
    assert "女性专属</a>: This package is for women only." in listing
    assert "四十八岁起</a>: This package is for people aged 48 or over; you are 47." in listing
    fragment = client.get("/shop?category=women", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "1 package is not shown" in fragment and "No package here" in fragment
    for package, why in ((women, "for women only"), (from48, "you are 47")):
        page = client.get(f"/shop/packages/{package.id}").get_data(as_text=True)
        assert "You cannot book this package" in page and why in page
        assert 'class="cal"' not in page and 'id="slots"' not in page
        part = client.get(f"/shop/packages/{package.id}?part=calendar", headers={"HX-Request": "true"})
        assert "You cannot book this package" in part.get_data(as_text=True)
    page = client.get(f"/shop/packages/{general.id}").get_data(as_text=True)
    assert 'class="cal"' in page and "You cannot book" not in page


def test_a_birthday_today_makes_the_package_bookable_today(make_tenant, make_patient, make_package,
                                                           patient_client):
    tenant = make_tenant()
    make_patient(tenant, name="周杰", sex="M", mobile=MOBILE, birth_date=_years_before(clinic_today(), 48))
    from48 = make_package(tenant, name="四十八岁起", age_min=48)
    client = patient_client(tenant, MOBILE)
    assert "四十八岁起" in client.get("/shop").get_data(as_text=True)
    assert 'class="cal"' in client.get(f"/shop/packages/{from48.id}").get_data(as_text=True)


def test_cancelling_asks_first_without_javascript(make_tenant, make_patient, make_package, patient_client,
                                                 as_tenant):
    tenant = make_tenant()
    make_patient(tenant, name="吴刚", mobile=MOBILE)
    package = make_package(tenant)
    client = _english(patient_client(tenant, MOBILE))
    order_url = _book(client, package.id, open_day()).headers["Location"]
    page = client.get(order_url).get_data(as_text=True)
    assert f'<a class="button" href="{order_url}/cancel">Cancel this booking</a>' in page  # a link to a question
    question = client.get(order_url + "/cancel")
    text = question.get_data(as_text=True)
    assert question.status_code == 200 and "Cancel this booking?" in text and "Yes, cancel the booking" in text
    assert 'name="confirm" type="hidden" value="1"' in text and f'href="{order_url}">No, keep it' in text
    asked = client.post(order_url + "/cancel", data={"csrf_token": client.token})  # an old one-click form
    assert asked.status_code == 200 and "Cancel this booking?" in asked.get_data(as_text=True)
    assert client.post(order_url + "/cancel", data={"confirm": "1"}).status_code == 400  # no CSRF token
    with as_tenant(tenant):
        from tenants.db import db

        assert db.session.scalar(select(Order.status)) == "pay_at_clinic"
    done = client.post(order_url + "/cancel", data={"csrf_token": client.token, "confirm": "1"})
    assert done.status_code == 302 and done.headers["Location"] == order_url
    assert "is cancelled" in client.get(order_url).get_data(as_text=True)
    late = client.get(order_url + "/cancel").get_data(as_text=True)
    assert "can no longer be cancelled" in late and "Yes, cancel the booking" not in late
    with as_tenant(tenant):
        from tenants.db import db

        assert db.session.scalar(select(Order.status)) == "cancelled"
        assert db.session.scalar(select(func.sum(SlotCounter.booked))) == 0


def test_rescheduling_onto_a_day_with_that_package_is_refused(make_tenant, make_patient, make_package,
                                                              patient_client, as_tenant):
    tenant = make_tenant()
    make_patient(tenant, name="吴刚", mobile=MOBILE)
    package = make_package(tenant)
    client = _english(patient_client(tenant, MOBILE))
    day, other_day = open_day(3), open_day(5)
    order_url = _book(client, package.id, day).headers["Location"]
    other_url = _book(client, package.id, other_day).headers["Location"]
    assert other_url != order_url
    refused = client.post(order_url + "/reschedule", data={"csrf_token": client.token,
                                                           "day": other_day.isoformat(), "slot": "08:30"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'role="alert"' in page
    assert f"There is a booking of 入职体检套餐 on {other_day.isoformat()} already" in page
    with as_tenant(tenant):
        from tenants.db import db

        assert sorted(db.session.scalars(select(Order.day))) == [day, other_day]
