"""Booking rules, capacity counters, idempotency, cancel and reschedule."""
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from app.booking import jobs, services
from app.booking.models import Order, SlotCounter
from app.notifications.models import Notification
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, at_clinic, open_day
from tests.clock import clinic_today

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)


@pytest.fixture
def clinic(make_tenant, make_patient, make_package):
    tenant = make_tenant()
    patient = make_patient(tenant, name="王晓燕", sex="F", birth_date=date(1985, 3, 2))
    package = make_package(tenant, fasting=True, no_alcohol=True, preparation="请携带身份证。")
    return tenant, patient, package


def _book(package, patient, day=None, start=FIRST_SLOT, key=None, **kw):
    from app.patients import services as patients

    n = kw.pop("n", 0)
    return services.book(package.id, day or open_day(), start, patients.get(patient.id),
                         idempotency_key=key or f"k-{day}-{start}-{patient.id}-{n}", **kw)


def _refused(reason, package, patient, **kw):
    with pytest.raises(services.BookingRefused) as caught:
        _book(package, patient, **kw)
    db.session.rollback()
    assert caught.value.reason == reason, caught.value.message
    return caught.value


def test_booking_creates_order_event_and_confirmation(as_tenant, clinic):
    tenant, patient, package = clinic
    with as_tenant(tenant):
        order = _book(package, patient)
        db.session.commit()
        assert order.status == "pay_at_clinic" and order.price_fen == 39900 and order.package_name == "入职体检套餐"
        assert order.order_no[:2] == patient.card_no[:2] and len(order.order_no) == 13
        events = services.orders.events(order)
        assert [(e.kind, e.to_status, e.actor_type) for e in events] == [("created", "pay_at_clinic", "patient")]
        sms = db.session.scalar(select(Notification).where(Notification.template_key == "booking_confirmation"))
        assert "入职体检套餐" in sms.body_text and order.order_no in sms.body_text
        counter = db.session.scalar(select(SlotCounter).where(SlotCounter.day == order.day))
        assert (counter.booked, counter.capacity) == (1, 20)
        assert services.format_fen(order.price_fen) == "¥399.00"


def test_every_refusal_has_its_reason(as_tenant, clinic, make_package, make_patient):
    tenant, patient, package = clinic
    man = make_patient(tenant, name="李强", sex="M", birth_date=date(2005, 1, 1))
    women = make_package(tenant, name="女性套餐", sex="F")
    seniors = make_package(tenant, name="中老年套餐", age_min=50)
    young = make_package(tenant, name="青年套餐", age_max=30)
    with as_tenant(tenant):
        rules = services.settings()
        assert rules.horizon_days == 60
        _refused("past", package, patient, day=clinic_today() - timedelta(days=1))
        _refused("horizon", package, patient, day=clinic_today() + timedelta(days=61))
        sunday = open_day() + timedelta(days=(6 - open_day().weekday()))
        _refused("closed", package, patient, day=sunday)                         # no weekly slots on Sunday
        holiday = open_day(5)
        services.add_closed_day(holiday, "劳动节")
        db.session.commit()
        _refused("closed", package, patient, day=holiday)
        day = open_day(2)
        _refused("cutoff", package, patient, day=day, now=at_clinic(day - timedelta(days=1), 18, 0))
        booked = _book(package, patient, day=day, now=at_clinic(day - timedelta(days=1), 17, 59))
        assert booked.status == "pay_at_clinic"
        db.session.rollback()
        _refused("no_slot", package, patient, start=time(13, 0))
        _refused("sex", women, man)
        refusal = _refused("age", seniors, patient)
        assert "50" in refusal.message
        _refused("age", young, patient)
        services.set_active(services.get_package(package.id), False)
        db.session.commit()
        _refused("inactive", package, patient)


def test_full_slot_package_limit_and_daily_cap(as_tenant, make_tenant, make_patient, make_package):
    tenant = make_tenant()
    people = [make_patient(tenant, name=f"病人{i}") for i in range(4)]
    limited = make_package(tenant, name="限量套餐", daily_limit=1)
    plain = make_package(tenant, name="普通套餐")
    day = open_day()
    with as_tenant(tenant):
        services.add_override(day, FIRST_SLOT, time(8, 30), 2)
        db.session.commit()
        _book(plain, people[0], day=day)
        _book(plain, people[1], day=day)
        db.session.commit()
        _refused("full", plain, people[2], day=day)
        _book(limited, people[2], day=day, start=time(8, 30))
        db.session.commit()
        _refused("package_full", limited, people[3], day=day, start=time(8, 30))
        services.update_settings(horizon_days=60, cutoff_days=1, cutoff_time=time(18), cancel_cutoff_days=1,
                                 cancel_cutoff_time=time(18), daily_capacity=3)
        db.session.commit()
        _refused("day_full", plain, people[3], day=day, start=time(9, 30))
        row = services.get_package(plain.id)
        state = services.availability.day_state(row, day)
        assert state.status == "full" and state.free == 0
        assert services.availability.day_state(row, open_day(4) if day != open_day(4) else open_day(5)).free > 0


def test_counters_refuse_overbooking_in_the_database(as_tenant, clinic):
    tenant, patient, package = clinic
    with as_tenant(tenant):
        order = _book(package, patient)
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(update(SlotCounter).where(SlotCounter.day == order.day)
                               .values(booked=SlotCounter.capacity + 1))
        db.session.rollback()


def test_resubmitted_form_books_once(as_tenant, clinic):
    tenant, patient, package = clinic
    with as_tenant(tenant):
        first = _book(package, patient, key="same-form")
        db.session.commit()
        again = _book(package, patient, key="same-form")
        db.session.commit()
        assert again.id == first.id
        assert db.session.scalar(select(SlotCounter.booked).where(SlotCounter.day == first.day)) == 1
        assert len(db.session.scalars(select(Order)).all()) == 1


def test_cancel_frees_the_place_until_the_cutoff(as_tenant, clinic):
    tenant, patient, package = clinic
    day = open_day(4)
    with as_tenant(tenant):
        order = _book(package, patient, day=day)
        db.session.commit()
        with pytest.raises(services.BookingRefused) as caught:
            services.cancel(order, actor_type="patient", now=at_clinic(day - timedelta(days=1), 18, 0))
        assert caught.value.reason == "change_cutoff"
        db.session.rollback()
        services.cancel(order, actor_type="patient", now=at_clinic(day - timedelta(days=1), 17, 0))
        db.session.commit()
        assert order.status == "cancelled"
        assert db.session.scalar(select(SlotCounter.booked).where(SlotCounter.day == day)) == 0
        notice = db.session.scalar(select(Notification).where(Notification.template_key == "booking_cancelled"))
        assert order.order_no in notice.body_text
        with pytest.raises(services.BookingRefused):
            services.cancel(order, actor_type="patient")


def test_staff_may_cancel_after_the_cutoff(as_tenant, clinic):
    tenant, patient, package = clinic
    day = open_day(2)
    with as_tenant(tenant):
        order = _book(package, patient, day=day)
        db.session.commit()
        services.cancel(order, actor_type="staff", actor_id=1, now=at_clinic(day, 7, 0), note="电话取消")
        db.session.commit()
        assert order.status == "cancelled"


def test_reschedule_moves_the_place_atomically(as_tenant, clinic, make_patient):
    tenant, patient, package = clinic
    other = make_patient(tenant, name="赵敏", sex="F")
    first, second = open_day(4), open_day(6)
    with as_tenant(tenant):
        services.add_override(second, FIRST_SLOT, time(8, 30), 1)
        db.session.commit()
        order = _book(package, patient, day=first)
        db.session.commit()
        from app.patients import services as patients

        me = patients.get(patient.id)
        services.reschedule(order, second, FIRST_SLOT, me, actor_type="patient")
        db.session.commit()
        booked = dict(db.session.execute(select(SlotCounter.day, SlotCounter.booked)).all())
        assert booked == {first: 0, second: 1}
        assert (order.day, order.start) == (second, FIRST_SLOT)
        assert services.orders.events(order)[-1].kind == "rescheduled"
        changed = db.session.scalars(select(Notification).where(Notification.template_key == "booking_changed")).all()
        assert changed and all(row.status == "pending" for row in changed)
        confirmations = db.session.scalars(select(Notification).where(
            Notification.template_key == "booking_confirmation")).all()
        # not yet sent when the date changed: cancelled, never delivered late beside the change
        assert confirmations and all(row.status == "cancelled" and "superseded" in row.last_error
                                     for row in confirmations)
        # the slot it left is free for someone else; a full target slot refuses and changes nothing
        _book(package, other, day=first)
        db.session.commit()
        theirs = _book(package, other, day=second, start=time(8, 30), n=2)
        db.session.commit()
        with pytest.raises(services.BookingRefused) as caught:
            services.reschedule(theirs, second, FIRST_SLOT, patients.get(other.id), actor_type="patient")
        assert caught.value.reason == "full"
        db.session.rollback()
        assert db.session.get(Order, (tenant.id, theirs.id)).start == time(8, 30)
        # a same-day move only moves the slot counters
        services.reschedule(order, second, time(8, 30), me, actor_type="patient")
        db.session.commit()
        assert db.session.scalar(select(SlotCounter.booked).where(
            SlotCounter.day == second, SlotCounter.start == FIRST_SLOT)) == 0
        with pytest.raises(services.BookingRefused) as caught:
            services.reschedule(order, first, FIRST_SLOT, me, actor_type="patient",
                                now=at_clinic(second - timedelta(days=1), 19, 0))
        assert caught.value.reason == "change_cutoff"
        db.session.rollback()


def test_transitions_are_checked_and_recorded(as_tenant, clinic):
    tenant, patient, package = clinic
    with as_tenant(tenant):
        order = _book(package, patient)
        db.session.commit()
        with pytest.raises(services.BookingRefused):
            services.transition(order, "completed", actor_type="staff", actor_id=7)
        with pytest.raises(services.BookingRefused):
            services.transition(order, "refunded", actor_type="staff", actor_id=7)
        with pytest.raises(services.NeedsConfirmation):  # booked for another day: asks first
            services.transition(order, "checked_in", actor_type="staff", actor_id=7)
        services.transition(order, "checked_in", actor_type="staff", actor_id=7, confirmed=True)
        services.mark_paid(order, actor_id=7, reference="R-001")
        services.transition(order, "completed", actor_type="staff", actor_id=7, note="done")
        db.session.commit()
        kinds = [(e.kind, e.from_status, e.to_status, e.actor_id) for e in services.orders.events(order)]
        assert kinds == [("created", "", "pay_at_clinic", None), ("status", "pay_at_clinic", "checked_in", 7),
                         ("payment", "checked_in", "checked_in", 7), ("status", "checked_in", "completed", 7)]
        assert order.paid_at is not None and order.checked_in_at is not None
        with pytest.raises(services.BookingRefused):
            services.mark_paid(order, actor_id=7)
        for status, targets in services.TRANSITIONS.items():
            assert status in services.STATUSES and targets <= set(services.STATUSES)


def test_paid_then_cancelled_then_refunded(as_tenant, clinic):
    tenant, patient, package = clinic
    with as_tenant(tenant):
        order = _book(package, patient)
        services.mark_paid(order, actor_id=3)
        assert order.status == "paid"
        services.cancel(order, actor_type="staff", actor_id=3)
        services.transition(order, "refunded", actor_type="staff", actor_id=3)
        db.session.commit()
        assert [e.to_status for e in services.orders.events(order)] == ["pay_at_clinic", "paid", "cancelled",
                                                                         "refunded"]


def test_reminder_the_day_before_carries_the_preparation(app, as_tenant, clinic):
    tenant, patient, package = clinic
    day = open_day(3)
    with as_tenant(tenant):
        order = _book(package, patient, day=day)
        db.session.commit()
        order_id = order.id
    with app.app_context():
        assert jobs.remind_tenant(tenant.id, now=at_clinic(day - timedelta(days=1), 19, 0)) == 1
        assert jobs.remind_tenant(tenant.id, now=at_clinic(day - timedelta(days=1), 19, 5)) == 1  # idempotent
    with as_tenant(tenant):
        rows = db.session.scalars(select(Notification).where(Notification.template_key == "booking_reminder")).all()
        assert len(rows) == 1 and str(order_id) in rows[0].idempotency_key
        assert "请携带身份证" in rows[0].body_text and "12" in rows[0].body_text


def test_remind_cli_acts_once_the_clinics_clock_passes_the_hour(app, as_tenant, clinic, pinned_clock):
    """Run every hour, the command reminds each clinic's patients after 18:00 clinic time, once."""
    tenant, patient, package = clinic
    today = clinic_today()
    pinned_clock.move_to(at_clinic(today, 12, 0))
    tomorrow = today + timedelta(days=1)
    with as_tenant(tenant):
        services.add_override(tomorrow, FIRST_SLOT, time(8, 30), 5)  # open even on a Sunday
        db.session.commit()
        _book(package, patient, day=tomorrow)
        db.session.commit()
    runner = app.test_cli_runner()
    pinned_clock.move_to(at_clinic(today, 17, 59))
    early = runner.invoke(args=["booking", "remind"])
    assert early.exit_code == 0 and f"{tenant.slug} not yet" in early.output, early.output
    pinned_clock.move_to(at_clinic(today, 18, 1))
    for _ in range(2):
        late = runner.invoke(args=["booking", "remind"])
        assert late.exit_code == 0 and f"{tenant.slug} 1" in late.output, late.output
    with as_tenant(tenant):
        assert len(db.session.scalars(select(Notification).where(
            Notification.template_key == "booking_reminder")).all()) == 1
    bad = runner.invoke(args=["booking", "remind", "--after", "25:00"])
    assert bad.exit_code != 0 and "clinic clock time" in bad.output


@pytest.mark.postgres
def test_new_tables_are_under_rls(app, as_tenant, clinic, make_tenant):
    tenant, patient, package = clinic
    other = make_tenant()
    with as_tenant(tenant):
        _book(package, patient)
        db.session.commit()
    with as_tenant(other):
        conn = db.session.connection()
        for table in ("exam_packages", "booking_orders", "booking_order_events", "slot_counters", "day_counters",
                      "package_day_counters", "slot_templates"):
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                                {"t": tenant.id}).scalar() == 0, table
        assert conn.execute(text("UPDATE slot_counters SET booked = 0 WHERE tenant_id = :t"),
                            {"t": tenant.id}).rowcount == 0
        assert services.get_package(package.id) is None
        db.session.rollback()
