"""Real PostgreSQL, real threads: never more bookings than places."""
import threading
from datetime import time

import pytest
from sqlalchemy import func, select

from app.booking import services
from app.booking.models import Order, SlotCounter
from tenants.context import tenant_context
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, open_day

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]


def _race(app, tenant_id, package_id, patient_ids, day, keys) -> list:
    """Each thread books at once (a barrier), in its own session; returns outcomes."""
    barrier = threading.Barrier(len(patient_ids))
    outcomes = [None] * len(patient_ids)

    def attempt(i):
        with app.app_context(), tenant_context(tenant_id):
            from app.patients import services as patients

            patient = patients.get(patient_ids[i])
            db.session.commit()
            barrier.wait()
            try:
                order = services.book(package_id, day, FIRST_SLOT, patient, idempotency_key=keys[i])
                db.session.commit()
                outcomes[i] = ("ok", order.id)
            except services.BookingRefused as exc:
                db.session.rollback()
                outcomes[i] = ("refused", exc.reason)
            except Exception as exc:  # noqa: BLE001 - reported by the test
                db.session.rollback()
                outcomes[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(patient_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


def test_fifty_attempts_on_the_last_five_places(app, make_tenant, make_patient, make_package, as_tenant):
    tenant = make_tenant()
    package = make_package(tenant)
    day = open_day()
    people = [make_patient(tenant, name=f"并发{i}").id for i in range(55)]
    with as_tenant(tenant):
        services.add_override(day, FIRST_SLOT, time(8, 30), 10)
        db.session.commit()
        from app.patients import services as patients

        for i in range(5):  # five places gone already
            services.book(package.id, day, FIRST_SLOT, patients.get(people[50 + i]), idempotency_key=f"early{i}")
        db.session.commit()
    outcomes = _race(app, tenant.id, package.id, people[:50], day, [f"race{i}" for i in range(50)])
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    assert sum(o[0] == "ok" for o in outcomes) == 5
    assert {o[1] for o in outcomes if o[0] == "refused"} == {"full"}
    with as_tenant(tenant):
        assert db.session.scalar(select(func.count()).select_from(Order).where(Order.day == day)) == 10
        counter = db.session.scalar(select(SlotCounter).where(SlotCounter.day == day, SlotCounter.start == FIRST_SLOT))
        assert (counter.booked, counter.capacity) == (10, 10)


def test_the_same_form_sent_ten_times_at_once_books_once(app, make_tenant, make_patient, make_package, as_tenant):
    tenant = make_tenant()
    package = make_package(tenant)
    day = open_day()
    patient = make_patient(tenant).id
    outcomes = _race(app, tenant.id, package.id, [patient] * 10, day, ["one-form"] * 10)
    assert {o[0] for o in outcomes} == {"ok"}, outcomes
    assert len({o[1] for o in outcomes}) == 1
    with as_tenant(tenant):
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(SlotCounter.booked).where(SlotCounter.day == day,
                                                                  SlotCounter.start == FIRST_SLOT)) == 1


def test_forms_for_the_same_package_and_day_sent_at_once_book_once(app, make_tenant, make_patient, make_package,
                                                                   as_tenant):
    """Back, then the book button again (a new form, a new key), in several
    tabs at once: one order, one place; every submission gets that order."""
    tenant = make_tenant()
    package = make_package(tenant)
    day = open_day()
    patient = make_patient(tenant).id
    outcomes = _race(app, tenant.id, package.id, [patient] * 6, day, [f"tab{i}" for i in range(6)])
    assert {o[0] for o in outcomes} == {"ok"}, outcomes
    assert len({o[1] for o in outcomes}) == 1
    with as_tenant(tenant):
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(SlotCounter.booked).where(SlotCounter.day == day,
                                                                  SlotCounter.start == FIRST_SLOT)) == 1
