"""Merging a self-registered card into the patient's existing card (issue
12, item 1): a staff page with a confirmation; orders, results, history,
tags, follow-ups, messages and the portal account move; the merged card is
kept, archived; everything is audited."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from app.booking.models import Order
from app.core.audit import AuditEvent
from app.followups.models import FollowupTask
from app.notifications.models import Notification
from app.patients.models import HealthHistoryItem, Patient
from app.records.models import Observation
from app.tagging.models import ManualTag
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, make_package, open_day  # noqa: F401  (shared fixture)
from tests.notifications.conftest import as_tenant  # noqa: F401  (shared fixture)
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)
from tests.security.test_portal_identity import _account, book_typing, resident_id

pytestmark = pytest.mark.time_sensitive

HER = {"name": "陈红梅", "sex": "F", "birth_date": date(1978, 9, 9)}
HER_ID = resident_id(HER["birth_date"], "024")
CARD_MOBILE, NEW_MOBILE = "13911112222", "13733334444"


def _count(model, **where):
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


@pytest.fixture
def two_cards(app, make_tenant, make_patient, make_package, patient_client, as_tenant):
    """Her existing card (with an order, a result, a history item) and the
    card she opened online from a new phone (an order, a result, a history
    item, a tag, a message)."""
    from app.booking import services as booking
    from app.patients import services as patients
    from app.records import services as records
    from app.tagging import services as tagging

    tenant = make_tenant()
    package = make_package(tenant, name="女性体检")
    existing = make_patient(tenant, mobile=CARD_MOBILE, id_number=HER_ID, **HER)
    glucose = records.indicator_by_code
    with as_tenant(tenant):
        card = patients.get(existing.id)
        old_order = booking.book(package.id, open_day(5), FIRST_SLOT, card, idempotency_key="old").order_no
        records.store(card, records.Value(glucose("14771-0"), "5.10", "mmol/L",
                                          datetime(2024, 6, 1, 1, 0, tzinfo=timezone.utc)))
        patients.add_history(card, kind="allergy", description="青霉素过敏", since_year=None)
        db.session.commit()
    client = patient_client(tenant, NEW_MOBILE)
    assert book_typing(client, package.id, open_day(), id_number=HER_ID, **HER).status_code == 302
    with as_tenant(tenant):
        online = patients.get(_account(tenant.id, NEW_MOBILE).patient_id)
        assert online.self_registered and online.id != existing.id
        records.store(online, records.Value(glucose("14771-0"), "6.80", "mmol/L",
                                            datetime(2025, 6, 1, 1, 0, tzinfo=timezone.utc)))
        patients.add_history(online, kind="surgery", description="阑尾切除", since_year=2001)
        tagging.add_manual(online.id, "网上自助建档")
        db.session.commit()
        online_id = online.id
    return tenant, package, existing.id, online_id, old_order, client


def test_the_desk_merges_a_self_registered_card_into_the_existing_one(two_cards, client_for, make_staff,
                                                                      as_tenant):
    tenant, _package, existing_id, online_id, old_order, client = two_cards
    with as_tenant(tenant):
        before = {"tasks": _count(FollowupTask, patient_id=online_id),
                  "messages": _count(Notification, recipient_type="patient", recipient_id=online_id)}
        assert before["messages"] >= 1  # the booking confirmation
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)
    doctor = client_for(tenant, make_staff(tenant, "doctor").email)
    assert doctor.get(f"/patients/{online_id}/merge").status_code == 403
    pick = desk.get(f"/patients/{online_id}/merge").get_data(as_text=True)
    assert f"/patients/{online_id}/merge/{existing_id}" in pick  # same name and birth date: offered
    confirm = desk.get(f"/patients/{online_id}/merge/{existing_id}")
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.get_data(as_text=True)
    unconfirmed = desk.submit(f"/patients/{online_id}/merge/{existing_id}", {})
    assert unconfirmed.status_code == 200
    with as_tenant(tenant):
        assert db.session.get(Patient, (tenant.id, online_id)).merged_into_id is None  # nothing yet
    merged = desk.submit(f"/patients/{online_id}/merge/{existing_id}", {"confirm": "1"})
    assert merged.status_code == 302 and merged.headers["Location"].endswith(f"/patients/{existing_id}")
    with as_tenant(tenant):
        online = db.session.get(Patient, (tenant.id, online_id))
        assert online.merged_into_id == existing_id and online.archived_at is not None  # kept, archived
        for model in (Order, Observation, HealthHistoryItem, ManualTag, FollowupTask):
            assert _count(model, patient_id=online_id) == 0, model
        assert _count(Order, patient_id=existing_id) == 2
        assert _count(Observation, patient_id=existing_id) == 2
        assert {h.description for h in db.session.scalars(select(HealthHistoryItem).where(
            HealthHistoryItem.patient_id == existing_id))} == {"青霉素过敏", "阑尾切除"}  # both histories
        assert _count(ManualTag, patient_id=existing_id) == 1
        assert _count(Notification, recipient_type="patient", recipient_id=online_id) == 0
        assert _count(Notification, recipient_type="patient", recipient_id=existing_id) >= before["messages"]
        assert _count(FollowupTask, patient_id=existing_id) >= before["tasks"]
        audits = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cards_merged")))
        assert sorted(e.patient_id for e in audits) == sorted([online_id, existing_id])
        assert all(e.detail["source_id"] == online_id and e.detail["target_id"] == existing_id for e in audits)
        # her new phone is not the kept card's number: its link ends, audited
        assert _account(tenant.id, NEW_MOBILE).patient_id is None
        assert db.session.scalar(select(AuditEvent.patient_id).where(
            AuditEvent.action == "portal_unlinked")) == online_id
    assert client.get("/portal").status_code == 302  # the old session is refused
    page = desk.get(f"/patients/{online_id}").get_data(as_text=True)
    assert "data-merged" in page and f"/patients/{existing_id}" in page


def test_the_portal_account_moves_when_the_kept_card_has_its_number(app, make_tenant, make_patient, make_package,
                                                                    patient_client, client_for, as_tenant):
    """A phone on a card, but details that match no card with it: a
    self-registered card with that number, merged back into the card."""
    tenant = make_tenant()
    package = make_package(tenant)
    make_patient(tenant, name="路人", mobile=CARD_MOBILE)  # two cards on the number: no link at sign-in
    existing = make_patient(tenant, mobile=CARD_MOBILE, **HER)
    client = patient_client(tenant, CARD_MOBILE)
    typed = dict(HER, name="陈红")  # her name as she typed it, short
    assert book_typing(client, package.id, open_day(), **typed).status_code == 302
    with as_tenant(tenant):
        online_id = _account(tenant.id, CARD_MOBILE).patient_id
        assert online_id != existing.id
    owner = client_for(tenant, tenant.owner_email)
    assert owner.submit(f"/patients/{online_id}/merge/{existing.id}", {"confirm": "1"}).status_code == 302
    with as_tenant(tenant):
        assert _account(tenant.id, CARD_MOBILE).patient_id == existing.id
    with as_tenant(tenant):
        order_no = db.session.scalar(select(Order.order_no).where(Order.patient_id == existing.id))
    page = client.get("/portal")  # the same session goes on, now on the kept card
    assert page.status_code == 200 and order_no in page.get_data(as_text=True)


def test_a_merge_that_would_break_a_rule_is_refused_and_moves_nothing(two_cards, client_for, as_tenant):
    tenant, package, existing_id, online_id, _old_order, _client = two_cards
    from app.booking import services as booking
    from app.patients import services as patients

    with as_tenant(tenant):  # both cards now hold the package on the same day
        booking.book(package.id, open_day(), FIRST_SLOT, patients.get(existing_id), idempotency_key="same-day")
        db.session.commit()
        orders_before = _count(Order, patient_id=online_id)
    owner = client_for(tenant, tenant.owner_email)
    refused = owner.submit(f"/patients/{online_id}/merge/{existing_id}", {"confirm": "1"})
    assert refused.status_code == 409 and 'role="alert"' in refused.get_data(as_text=True)
    with as_tenant(tenant):
        assert _count(Order, patient_id=online_id) == orders_before
        assert db.session.get(Patient, (tenant.id, online_id)).merged_into_id is None
        assert _count(HealthHistoryItem, patient_id=online_id) == 1
    for target in (online_id,):  # a card cannot be merged into itself
        assert owner.get(f"/patients/{online_id}/merge/{target}").status_code == 409
