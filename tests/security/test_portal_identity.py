"""The portal identity is the verified mobile number (issue 12, item 1).

A card is linked to a portal account only when the card's mobile on file is
the number the account signed in with. Typing someone's name, sex, birth
date and ID number links nothing: a phone that matches no card books as a
new, self-registered person, whom the front desk checks at check-in. No
answer tells whether an ID number has a card. Changing a card's mobile ends
the old number's link and its sessions; links and unlinks are audited."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.core import identity
from app.core.audit import AuditEvent
from app.patients.models import Patient
from app.portal.models import PortalAccount
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, make_package, open_day  # noqa: F401  (shared fixture)
from tests.notifications.conftest import as_tenant  # noqa: F401  (shared fixture)
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.time_sensitive

VICTIM_MOBILE, OUTSIDER_MOBILE = "13911110001", "13722220002"
VICTIM = {"name": "王丽华", "sex": "F", "birth_date": date(1985, 3, 12)}


def resident_id(born: date, sequence: str = "002") -> str:
    first17 = f"110101{born:%Y%m%d}{sequence}"
    return first17 + identity.check_char(first17)


VICTIM_ID = resident_id(VICTIM["birth_date"])


def _idem(page: str) -> str:
    return re.search(r'name="idem"[^>]*value="([^"]+)"', page).group(1)


def book_typing(client, package_id, day, slot="07:30", **details):
    """Book as the signed-in account, typing these details in the form."""
    form = client.get(f"/shop/packages/{package_id}/book?day={day}&slot={slot}").get_data(as_text=True)
    data = {"csrf_token": client.token, "day": day.isoformat(), "slot": slot, "idem": _idem(form), "consent": "y",
            "name": details["name"], "sex": details["sex"], "birth_date": details["birth_date"].isoformat(),
            "id_number": details.get("id_number", "")}
    return client.post(f"/shop/packages/{package_id}/book", data=data)


@pytest.fixture
def victim(app, make_tenant, make_patient, make_package, as_tenant):
    """A clinic, a package, and a patient with a card, a booking and a result."""
    from app.booking import services as booking
    from app.patients import services as patients
    from app.records import services as records

    tenant = make_tenant()
    package = make_package(tenant, name="常规体检")
    card = make_patient(tenant, mobile=VICTIM_MOBILE, id_number=VICTIM_ID, **VICTIM)
    with as_tenant(tenant):
        patient = patients.get(card.id)
        order = booking.book(package.id, open_day(4), FIRST_SLOT, patient, idempotency_key="victim-order")
        records.store(patient, records.Value(records.indicator_by_code("14771-0"), "8.37", "mmol/L",
                                             datetime(2025, 6, 1, 1, 0, tzinfo=timezone.utc)))
        db.session.commit()
        order_no = order.order_no
    return tenant, package, card, order_no


def _account(tenant_id, mobile):
    from app.portal import otp

    return db.session.scalar(select(PortalAccount).where(PortalAccount.mobile_index == otp.mobile_index(mobile)))


def _audits(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_typing_the_victims_details_links_nothing(victim, patient_client, as_tenant):
    """The attack as reported: an outsider signs in with their own phone
    (which belongs to no card), books a package and types the victim's name,
    sex, birth date and resident ID number."""
    tenant, package, card, order_no = victim
    outsider = patient_client(tenant, OUTSIDER_MOBILE)
    booked = book_typing(outsider, package.id, open_day(), id_number=VICTIM_ID, **VICTIM)
    assert booked.status_code == 302 and "/portal/orders/" in booked.headers["Location"]
    for url in ("/portal", "/portal/results", "/portal/messages", booked.headers["Location"]):
        page = outsider.get(url).get_data(as_text=True)
        assert order_no not in page and "8.37" not in page, url
    with as_tenant(tenant):
        account = _account(tenant.id, OUTSIDER_MOBILE)
        assert account.patient_id is not None and account.patient_id != card.id
        mine = db.session.get(Patient, (tenant.id, account.patient_id))
        assert mine.self_registered and mine.source_channel == "online"
        assert mine.id_number_index is None  # the number is another card's: not copied onto this one
        victim_card = db.session.get(Patient, (tenant.id, card.id))
        assert not victim_card.self_registered and victim_card.id_number_index is not None
        linked = [e for e in _audits("portal_linked") if e.detail.get("account_id") == account.id]
        assert [e.patient_id for e in linked] == [mine.id]


def test_no_answer_tells_whether_an_id_number_has_a_card(victim, patient_client, as_tenant):
    tenant, package, card, _order_no = victim
    fresh_id = resident_id(date(1991, 7, 8), "013")
    answers = []
    for mobile, details in (
            ("13722220003", dict(name="赵强", sex="M", birth_date=date(1991, 7, 8), id_number=fresh_id)),
            ("13722220004", dict(name="赵强", sex="F", birth_date=VICTIM["birth_date"], id_number=VICTIM_ID)),
            ("13722220005", dict(VICTIM, id_number=VICTIM_ID))):
        client = patient_client(tenant, mobile)
        response = book_typing(client, package.id, open_day(), **details)
        page = client.get(response.headers.get("Location", "/portal")).get_data(as_text=True)
        answers.append((response.status_code, "ID number" in page or "身份证" in page and "已有" in page))
    assert answers == [(302, False)] * 3


def test_a_phone_with_no_card_books_as_a_self_registered_person(victim, patient_client, client_for, make_staff,
                                                                 as_tenant):
    tenant, package, _card, _order_no = victim
    client = patient_client(tenant, OUTSIDER_MOBILE)
    fresh_id = resident_id(date(1990, 1, 2), "015")
    booked = book_typing(client, package.id, open_day(), name="孙悟", sex="M", birth_date=date(1990, 1, 2),
                         id_number=fresh_id)
    assert booked.status_code == 302
    with as_tenant(tenant):
        account = _account(tenant.id, OUTSIDER_MOBILE)
        card = db.session.get(Patient, (tenant.id, account.patient_id))
        assert card.self_registered and card.id_number_index is not None
        from app.booking.models import Order

        order_id = db.session.scalar(select(Order.id).where(Order.patient_id == card.id))
        card_id = card.id
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)
    page = desk.get(f"/booking/orders/{order_id}").get_data(as_text=True)
    assert "data-self-registered" in page  # the desk is told to check the ID card
    card_page = desk.get(f"/patients/{card_id}").get_data(as_text=True)
    assert "data-self-registered" in card_page
    assert desk.submit(f"/patients/{card_id}/identity-verified").status_code == 302
    assert "data-self-registered" not in desk.get(f"/patients/{card_id}").get_data(as_text=True)
    with as_tenant(tenant):
        assert not db.session.get(Patient, (tenant.id, card_id)).self_registered
        assert [e.patient_id for e in _audits("identity_verified")] == [card_id]


def test_the_card_with_the_verified_number_is_linked(victim, patient_client, as_tenant):
    tenant, _package, card, order_no = victim
    client = patient_client(tenant, VICTIM_MOBILE)
    assert order_no in client.get("/portal").get_data(as_text=True)
    with as_tenant(tenant):
        account = _account(tenant.id, VICTIM_MOBILE)
        assert account.patient_id == card.id
        assert [e.patient_id for e in _audits("portal_linked")] == [card.id]


def test_a_shared_phone_links_the_card_whose_details_are_typed(app, make_tenant, make_patient, make_package,
                                                               patient_client, as_tenant):
    """Two cards on one number (a parent's phone on a child's card): the
    details choose between them; both have the verified number on file."""
    tenant = make_tenant()
    package = make_package(tenant)
    make_patient(tenant, name="李父", sex="M", birth_date=date(1960, 1, 1), mobile=VICTIM_MOBILE)
    child = make_patient(tenant, name="李子", sex="M", birth_date=date(1995, 5, 5), mobile=VICTIM_MOBILE)
    client = patient_client(tenant, VICTIM_MOBILE)
    assert book_typing(client, package.id, open_day(), name="李子", sex="M",
                       birth_date=date(1995, 5, 5)).status_code == 302
    with as_tenant(tenant):
        assert _account(tenant.id, VICTIM_MOBILE).patient_id == child.id


def test_changing_the_cards_mobile_ends_the_old_numbers_link_and_sessions(victim, patient_client, client_for,
                                                                          as_tenant, pinned_clock):
    tenant, _package, card, order_no = victim
    old_phone = patient_client(tenant, VICTIM_MOBILE)
    assert order_no in old_phone.get("/portal").get_data(as_text=True)
    staff = client_for(tenant, tenant.owner_email)
    new_mobile = "13655556666"
    form = {"name": VICTIM["name"], "sex": "F", "birth_date": "1985-03-12", "mobile": new_mobile,
            "id_number": VICTIM_ID, "source_channel": "walk_in"}
    edited = staff.submit(f"/patients/{card.id}/edit", form)
    assert edited.status_code == 302, edited.get_data(as_text=True)[-800:]
    for url in ("/portal", "/portal/results", "/portal/messages"):  # the old cookie is refused
        answer = old_phone.get(url)
        assert answer.status_code == 302 and "/portal/sign-in" in answer.headers["Location"], url
    with as_tenant(tenant):
        assert _account(tenant.id, VICTIM_MOBILE).patient_id is None
        assert [e.patient_id for e in _audits("portal_unlinked")] == [card.id]
    pinned_clock.shift(timedelta(minutes=2))  # past the wait between two codes to one number
    again = patient_client(tenant, VICTIM_MOBILE)  # the old number signs in again: no card of its own
    assert order_no not in again.get("/portal").get_data(as_text=True)
    new_phone = patient_client(tenant, new_mobile)
    assert order_no in new_phone.get("/portal").get_data(as_text=True)
