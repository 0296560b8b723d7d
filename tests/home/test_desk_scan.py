"""The front desk's search box takes a scanned member card (its QR code is the card number) or an order
number with Enter: today's booking is checked in, audited; a card without one opens; an unknown code is
said beside the box; any other text is a patient search."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.booking.models import Order
from app.core import clock
from app.core.audit import AuditEvent
from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]


def _today(app, demo):
    """Today's orders and every patient, by id."""
    with app.app_context(), tenant_context(demo.id):
        orders = list(db.session.scalars(select(Order).where(Order.day == clock.today()).order_by(Order.start)))
        people = {p.id: p for p in db.session.scalars(select(Patient))}
        db.session.expunge_all()
    return orders, people


def _check_ins(app, demo) -> int:
    with app.app_context(), tenant_context(demo.id):
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "order_changed", AuditEvent.detail["after"].as_string() == "checked_in"))


def _status(app, demo, order_id: int) -> str:
    with app.app_context(), tenant_context(demo.id):
        return db.session.get(Order, (demo.id, order_id)).status


def test_a_scanned_card_checks_todays_booking_in_and_the_home_page_says_so(app, demo, signed_in):
    orders, people = _today(app, demo)
    waiting = next(o for o in orders if o.status == "pay_at_clinic")
    patient = people[waiting.patient_id]
    audited = _check_ins(app, demo)
    desk = signed_in("front_desk")

    scanned = desk.submit("/scan", {"q": patient.card_no.lower()})  # a scanner may type lower case

    assert scanned.status_code == 302 and urlsplit(scanned.location).path == "/"
    assert _status(app, demo, waiting.id) == "checked_in"
    assert _check_ins(app, demo) == audited + 1
    home = desk.get(scanned.location).get_data(as_text=True)
    assert re.search(r'<p class="flash" role="status">' + re.escape(patient.name) + "[^<]*已到检", home)
    row = home[home.index(f'id="arrival-{waiting.id}"'):]
    row = row[:row.index("</tr>")]
    assert "已到检" in row and "<button" not in row and 'class="just-done"' in home


def test_an_order_number_checks_that_order_in(app, demo, signed_in):
    orders, people = _today(app, demo)
    waiting = [o for o in orders if o.status in ("pay_at_clinic", "paid", "confirmed")][-1]
    desk = signed_in("front_desk")
    scanned = desk.submit("/scan", {"q": waiting.order_no})
    assert scanned.status_code == 302 and urlsplit(scanned.location).path == "/"
    assert _status(app, demo, waiting.id) == "checked_in"
    assert people[waiting.patient_id].name in desk.get(scanned.location).get_data(as_text=True)


def test_a_card_without_a_booking_today_opens_the_card(app, demo, signed_in):
    orders, people = _today(app, demo)
    booked = {o.patient_id for o in orders}
    patient = next(p for p in people.values() if p.id not in booked)
    audited = _check_ins(app, demo)
    desk = signed_in("front_desk")
    scanned = desk.submit("/scan", {"q": patient.card_no})
    assert scanned.status_code == 302 and scanned.location.endswith(f"/patients/{patient.id}")
    assert "今天没有待到检的预约" in desk.get(scanned.location).get_data(as_text=True)
    assert _check_ins(app, demo) == audited


def test_a_card_already_checked_in_today_opens_the_card_and_checks_nothing(app, demo, signed_in):
    orders, people = _today(app, demo)
    done = next(o for o in orders if o.status == "checked_in")
    audited = _check_ins(app, demo)
    scanned = signed_in("front_desk").submit("/scan", {"q": people[done.patient_id].card_no})
    assert scanned.location.endswith(f"/patients/{done.patient_id}")
    assert _check_ins(app, demo) == audited


def test_an_unknown_code_is_said_beside_the_box_and_kept(app, demo, signed_in):
    orders, people = _today(app, demo)
    card = next(iter(people.values())).card_no
    unknown = card[:-6] + "999999"
    answer = signed_in("front_desk").submit("/scan", {"q": unknown})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert re.search(r'<input id="home-q" name="q" type="search"[^>]*value="' + unknown + '"[^>]*aria-invalid="true"',
                     page, re.S)
    assert f'<p class="error" id="home-q-error" role="alert">没有编号为 {unknown} 的会员卡或订单。</p>' in page
    assert 'id="arrivals-h"' in page  # the rest of the home page is there


@pytest.mark.parametrize("typed", ["王", "wang", "1234", "{prefix}12345"])
def test_other_text_is_a_patient_search_never_a_code(app, demo, signed_in, typed):
    orders, people = _today(app, demo)
    prefix = re.match(r"[A-Z]*", next(iter(people.values())).card_no).group(0)
    typed = typed.format(prefix=prefix)  # five digits: shorter than a card number
    audited = _check_ins(app, demo)
    answer = signed_in("front_desk").submit("/scan", {"q": typed})
    assert answer.status_code == 302 and urlsplit(answer.location).path == "/patients"
    assert parse_qs(urlsplit(answer.location).query) == {"q": [typed]}
    assert _check_ins(app, demo) == audited


def test_the_search_box_needs_its_csrf_token(demo, signed_in):
    assert signed_in("front_desk").post("/scan", data={"q": "x"}).status_code == 400
