"""One order of a package per patient per day (the service answers a second
booking with the first; the database refuses a second row that holds a
place; rescheduling onto such a day is refused), eligibility on today's
date, and checking in an order of another day."""
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.booking import orders, services
from app.booking.models import HOLDING_SQL, Order, SlotCounter
from app.notifications.models import Notification
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, at_clinic, open_day
from tests.clock import clinic_today

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)
SECOND_SLOT = time(8, 30)


@pytest.fixture
def clinic(make_tenant, make_patient, make_package):
    tenant = make_tenant()
    patient = make_patient(tenant, name="王晓燕", sex="F", birth_date=date(1985, 3, 2))
    package = make_package(tenant)
    return tenant, patient, package


def _me(patient):
    from app.patients import services as patients

    return patients.get(patient.id)


def _count(model=Order, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _booked(day, start) -> int:
    return db.session.scalar(select(SlotCounter.booked).where(SlotCounter.day == day, SlotCounter.start == start)) or 0


def test_a_second_booking_of_the_package_that_day_gets_the_first_order(as_tenant, clinic, make_package,
                                                                       make_patient):
    tenant, patient, package = clinic
    other_package = make_package(tenant, name="女性专项")
    neighbour = make_patient(tenant, name="赵敏", sex="F")
    day = open_day()
    with as_tenant(tenant):
        first = services.book_once(package.id, day, FIRST_SLOT, _me(patient), idempotency_key="form-1")
        db.session.commit()
        assert first.created
        # Back, a new form (a new key), even another time of that day: the same order, no second place
        again = services.book_once(package.id, day, SECOND_SLOT, _me(patient), idempotency_key="form-2")
        db.session.commit()
        assert (again.order.id, again.created) == (first.order.id, False)
        assert services.book(package.id, day, FIRST_SLOT, _me(patient), idempotency_key="form-1").id == first.order.id
        assert _count() == 1 and _booked(day, FIRST_SLOT) == 1 and _booked(day, SECOND_SLOT) == 0
        assert _count(Notification, Notification.template_key == "booking_confirmation") == 1
        # another package that day, this package another day, another patient: bookings of their own
        assert services.book_once(other_package.id, day, FIRST_SLOT, _me(patient), idempotency_key="p2").created
        assert services.book_once(package.id, open_day(5), FIRST_SLOT, _me(patient), idempotency_key="d2").created
        assert services.book_once(package.id, day, FIRST_SLOT, _me(neighbour), idempotency_key="n1").created
        db.session.commit()
        assert _count() == 4 and _booked(day, FIRST_SLOT) == 3


def test_once_cancelled_the_package_can_be_booked_that_day_again(as_tenant, clinic):
    tenant, patient, package = clinic
    day = open_day()
    with as_tenant(tenant):
        first = services.book(package.id, day, FIRST_SLOT, _me(patient), idempotency_key="a")
        services.cancel(first, actor_type="patient")
        db.session.commit()
        second = services.book_once(package.id, day, SECOND_SLOT, _me(patient), idempotency_key="b")
        db.session.commit()
        assert second.created and second.order.id != first.id
        assert orders.holding(patient.id, package.id, day).id == second.order.id
        assert _booked(day, FIRST_SLOT) == 0 and _booked(day, SECOND_SLOT) == 1


def test_the_database_refuses_a_second_order_that_holds_a_place(as_tenant, clinic):
    tenant, patient, package = clinic
    day = open_day()
    statuses = ", ".join(f"'{status}'" for status in sorted(orders.HOLDING))
    assert f"status IN ({statuses})" == HOLDING_SQL  # the model's index and the service say the same
    with as_tenant(tenant):
        first = services.book(package.id, day, FIRST_SLOT, _me(patient), idempotency_key="a")
        db.session.commit()

        def copy(key, status):
            return Order(order_no=f"X{key}", idempotency_key=key, package_id=package.id, package_name="x",
                         patient_id=patient.id, day=day, start=first.start, end=first.end, status=status,
                         price_fen=0)

        for n, status in enumerate(sorted(orders.HOLDING)):
            db.session.add(copy(f"dup{n}", status))
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
        for n, status in enumerate(sorted(set(orders.STATUSES) - orders.HOLDING)):
            db.session.add(copy(f"ok{n}", status))  # orders that hold no place may repeat
        db.session.commit()
        assert _count() == 1 + len(orders.STATUSES) - len(orders.HOLDING)


def test_a_race_lost_in_the_database_gives_back_the_first_order_and_its_places(as_tenant, clinic, monkeypatch):
    """With the service's look-up skipped (as when two submissions pass it at
    once), the unique index stops the second insert: the savepoint gives its
    places back and the first order comes back."""
    tenant, patient, package = clinic
    day = open_day()
    with as_tenant(tenant):
        first = services.book(package.id, day, FIRST_SLOT, _me(patient), idempotency_key="a")
        db.session.commit()
        real_holding = orders.holding
        calls = []

        def blind_first_time(*args, **kwargs):
            calls.append(args)
            return None if len(calls) == 1 else real_holding(*args, **kwargs)

        monkeypatch.setattr(orders, "holding", blind_first_time)
        again = services.book_once(package.id, day, SECOND_SLOT, _me(patient), idempotency_key="b")
        db.session.commit()
        assert (again.order.id, again.created) == (first.id, False) and len(calls) == 2
        assert _count() == 1 and _booked(day, FIRST_SLOT) == 1 and _booked(day, SECOND_SLOT) == 0


def test_rescheduling_onto_a_day_with_that_package_is_refused(as_tenant, clinic):
    tenant, patient, package = clinic
    first_day, second_day, third_day = open_day(3), open_day(5), open_day(7)
    with as_tenant(tenant):
        mine = services.book(package.id, first_day, FIRST_SLOT, _me(patient), idempotency_key="a")
        other = services.book(package.id, second_day, FIRST_SLOT, _me(patient), idempotency_key="b")
        db.session.commit()
        with pytest.raises(services.BookingRefused) as caught:
            services.reschedule(mine, second_day, SECOND_SLOT, _me(patient), actor_type="patient")
        db.session.rollback()
        assert caught.value.reason == "duplicate"
        assert other.order_no in caught.value.message and second_day.isoformat() in caught.value.message
        assert (mine.day, mine.start) == (first_day, FIRST_SLOT)
        assert _booked(first_day, FIRST_SLOT) == 1 and _booked(second_day, SECOND_SLOT) == 0
        # another time of its own day, or a day without that package: moved
        services.reschedule(mine, first_day, SECOND_SLOT, _me(patient), actor_type="patient")
        services.reschedule(mine, third_day, FIRST_SLOT, _me(patient), actor_type="patient")
        db.session.commit()
        assert (mine.day, mine.start) == (third_day, FIRST_SLOT)
        # once the other is cancelled, its day is free for this one
        services.cancel(other, actor_type="patient")
        services.reschedule(mine, second_day, SECOND_SLOT, _me(patient), actor_type="patient")
        db.session.commit()
        assert mine.day == second_day


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)  # years % 4 == 0: a 29 February maps to one


def test_eligibility_is_by_sex_and_by_age_on_todays_date(as_tenant, make_tenant, make_patient, make_package):
    tenant = make_tenant()
    today = clinic_today()
    birthday_today = make_patient(tenant, name="今天生日", sex="M", birth_date=_years_before(today, 48))
    birthday_tomorrow = make_patient(tenant, name="明天生日", sex="M",
                                     birth_date=_years_before(today, 48) + timedelta(days=1))
    from48 = make_package(tenant, name="四十八岁起", age_min=48)
    upto47 = make_package(tenant, name="四十七岁以下", age_max=47)
    women = make_package(tenant, name="女性套餐", sex="F")
    everyone = make_package(tenant, name="常规套餐")
    with as_tenant(tenant):
        packages = [services.get_package(p.id) for p in (from48, upto47, women, everyone)]
        old, young = _me(birthday_today), _me(birthday_tomorrow)
        assert services.availability.eligibility_refusal(packages[0], old.sex, old.birth_date) is None
        refusal = services.availability.eligibility_refusal(packages[0], young.sex, young.birth_date)
        assert refusal.reason == "age" and "47" in refusal.message and "48" in refusal.message
        assert services.availability.eligibility_refusal(packages[1], old.sex, old.birth_date).reason == "age"
        assert services.availability.eligibility_refusal(packages[2], old.sex, old.birth_date).reason == "sex"
        bookable, refused = services.bookable_for(packages, young)
        assert [p.name for p in bookable] == ["四十七岁以下", "常规套餐"]
        assert [(p.name, "women" in why or "女" in why) for p, why in refused] == [("四十八岁起", False),
                                                                                   ("女性套餐", True)]
        # eligible today, too old on the exam day: booking checks the exam day and says so
        with pytest.raises(services.BookingRefused) as caught:
            services.book(upto47.id, open_day(), FIRST_SLOT, young, idempotency_key="late")
        db.session.rollback()
        assert caught.value.reason == "age" and "48" in caught.value.message


def _book_for(tenant, patient, package, day):
    """An order for ``day`` (today or past), booked days before."""
    services.add_override(day, FIRST_SLOT, SECOND_SLOT, 5)
    db.session.flush()
    return services.book(package.id, day, FIRST_SLOT, _me(patient), idempotency_key=f"on-{day}",
                         now=at_clinic(day - timedelta(days=3), 10, 0))


def test_checking_in_an_order_of_another_day_needs_confirming(as_tenant, clinic):
    tenant, patient, package = clinic
    today = clinic_today()
    with as_tenant(tenant):
        todays = _book_for(tenant, patient, package, today)
        yesterdays = _book_for(tenant, patient, package, today - timedelta(days=1))
        tomorrows = services.book(package.id, open_day(), FIRST_SLOT, _me(patient), idempotency_key="later")
        db.session.commit()
        services.transition(todays, "checked_in", actor_type="staff", actor_id=5)  # today's: one click
        for order in (yesterdays, tomorrows):
            with pytest.raises(services.NeedsConfirmation) as caught:
                services.transition(order, "checked_in", actor_type="staff", actor_id=5)
            assert caught.value.reason == "other_day" and order.day.isoformat() in caught.value.message
            assert today.isoformat() in caught.value.message and order.status == "pay_at_clinic"
        event = services.transition(tomorrows, "checked_in", actor_type="staff", actor_id=5, confirmed=True)
        db.session.commit()
        assert todays.status == tomorrows.status == "checked_in" and yesterdays.status == "pay_at_clinic"
        assert tomorrows.day.isoformat() in event.note and today.isoformat() in event.note
        assert services.orders.events(todays)[-1].note == ""
