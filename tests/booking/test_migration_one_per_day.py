"""The migration that adds the one-order-per-package-per-day index, on a
database that holds duplicates already: each clinic's later duplicates are
cancelled (the paid one is kept), their places given back, an event says
why; then the index stands. On PostgreSQL (a database of its own, migrated
as the owner under FORCE ROW LEVEL SECURITY, read back as the app role) and
on SQLite."""
import secrets
from datetime import date, time
from time import sleep

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from tests import services as svc
from tests.booking.conftest import FIRST_SLOT, open_day

BEFORE = "c4e6a8b0d2f3"
SECOND_SLOT = time(8, 30)


def _app_on(session_app, app_url: str, owner_url: str):
    from app import create_app

    keep = ("TESTING", "CARELOOP_ENV", "REDIS_URL", "RQ_NAMESPACE", "STORAGE_URL", "SECRET_KEY", "DATA_KEY")
    return create_app({**{k: session_app.config[k] for k in keep}, "SQLALCHEMY_DATABASE_URI": app_url,
                       "DATABASE_OWNER_URL": owner_url})


def _seed_at_before(owner_url: str, monkeypatch) -> dict:
    """The duplicates the old code let through, in a database at BEFORE: the
    schema is migrated to the head (so today's models can write), the index
    is set aside while they do, then everything is migrated back down to
    BEFORE, the data with it."""
    upgrade()
    engine = sa.create_engine(owner_url)
    try:
        with engine.begin() as conn:  # a plain index of the same name: the way down drops it
            conn.execute(sa.text("DROP INDEX uq_booking_orders_one_per_day"))
            conn.execute(sa.text("CREATE INDEX uq_booking_orders_one_per_day ON booking_orders (tenant_id)"))
    finally:
        engine.dispose()
    ids = _seed_duplicates(monkeypatch)
    from tenants.db import db

    db.session.remove()
    downgrade(revision=BEFORE)
    return ids


def _seed_duplicates(monkeypatch) -> dict:
    """Two clinics at the revision before, with the duplicates the old code let through."""
    from app.booking import orders
    from app.booking import services as booking
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db
    from tenants.services import create_tenant

    monkeypatch.setattr(orders, "holding", lambda *args, **kwargs: None)  # the old code did not look
    day = open_day()
    ids = {"day": day}

    def clinic(name):  # no staff account: today's staff table is not the one of the revision before
        return create_tenant("mig" + secrets.token_hex(4), name).id

    def person(name, mobile):
        return patients.enrol(patients.PatientData(name=name, sex="F", birth_date=date(1980, 1, 2), mobile=mobile),
                              consent_version="t")

    a, b = clinic("迁移甲"), clinic("迁移乙")
    with tenant_context(a):
        package = booking.save_package(booking.PackageData(name="常规套餐", price="100", items="血常规"))
        me, neighbour = person("重复者", "13900000001"), person("邻居", "13900000002")

        def book(who, key, start=FIRST_SLOT):
            order = booking.book(package.id, day, start, who, idempotency_key=key)
            db.session.commit()
            return order

        gone = book(me, "k0")
        booking.cancel(gone, actor_type="patient")
        db.session.commit()
        first, paid, third = book(me, "k1"), book(me, "k2", SECOND_SLOT), book(me, "k3")
        booking.mark_paid(paid, actor_id=None)
        alone = book(neighbour, "q1")
        db.session.commit()
        ids.update(a=a, package=package.id, gone=gone.id, first=first.id, paid=paid.id, third=third.id,
                   alone=alone.id, me=me.id, paid_no=paid.order_no)
    with tenant_context(b):
        package = booking.save_package(booking.PackageData(name="乙套餐", price="100", items="血常规"))
        other = person("乙方重复者", "13900000003")
        both = []
        for key in ("r1", "r2"):
            order = booking.book(package.id, day, FIRST_SLOT, other, idempotency_key=key)
            booking.mark_paid(order, actor_id=None)
            db.session.commit()
            both.append(order.id)
        ids.update(b=b, kept_b=both[0], paid_dup=both[1])
    monkeypatch.undo()
    return ids


def _check(ids: dict, monkeypatch) -> None:
    from app.booking import services as booking
    from app.booking.models import DayCounter, Order, PackageDayCounter, SlotCounter
    from tenants.context import tenant_context
    from tenants.db import db

    day = ids["day"]
    with tenant_context(ids["a"]):
        status = {o.id: o.status for o in db.session.scalars(select(Order))}
        assert status == {ids["gone"]: "cancelled", ids["first"]: "cancelled", ids["paid"]: "paid",
                          ids["third"]: "cancelled", ids["alone"]: "pay_at_clinic"}
        for order_id in (ids["first"], ids["third"]):
            event = booking.orders.events(booking.get_order(order_id))[-1]
            assert (event.kind, event.from_status, event.to_status, event.actor_type, event.actor_id) == \
                ("status", "pay_at_clinic", "cancelled", "system", None)
            assert ids["paid_no"] in event.note and "duplicate" in event.note and "refund" not in event.note
        assert len(booking.orders.events(booking.get_order(ids["gone"]))) == 2  # cancelled before: untouched
        slots = dict(db.session.execute(select(SlotCounter.start, SlotCounter.booked)
                                        .where(SlotCounter.day == day)).all())
        assert slots == {FIRST_SLOT: 1, SECOND_SLOT: 1}  # the neighbour's, and the paid one's
        assert db.session.scalar(select(DayCounter.booked).where(DayCounter.day == day)) == 2
        assert db.session.scalar(select(PackageDayCounter.booked).where(PackageDayCounter.day == day)) == 2
        # the index stands: past the service's look-up, the database answers with the order kept
        from app.booking import orders
        from app.patients import services as patients

        real, looked = orders.holding, []

        def blind_first_time(*args, **kwargs):  # as when two submissions pass the look-up at once
            looked.append(args)
            return None if len(looked) == 1 else real(*args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(orders, "holding", blind_first_time)
            again = booking.book_once(ids["package"], day, FIRST_SLOT, patients.get(ids["me"]), idempotency_key="k9")
        db.session.commit()
        assert (again.order.id, again.created) == (ids["paid"], False)
    with tenant_context(ids["b"]):
        kept, dup = booking.get_order(ids["kept_b"]), booking.get_order(ids["paid_dup"])
        assert (kept.status, dup.status) == ("paid", "cancelled")
        assert "refund" in booking.orders.events(dup)[-1].note
        booking.transition(dup, "refunded", actor_type="staff")  # the desk can give the money back
        db.session.commit()


@pytest.mark.postgres
def test_migration_cancels_duplicates_on_postgresql(app, monkeypatch):
    name = f"{svc.DB_NAME}_mig"
    maintenance = svc.OWNER_URL.rsplit("/", 1)[0] + "/postgres"
    owner_url, app_url = (url.rsplit("/", 1)[0] + f"/{name}" for url in (svc.OWNER_URL, svc.APP_URL))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute("GRANT USAGE ON SCHEMA public TO careloop_app")
    from app.config import _normalise_db_url
    from tenants.db import db

    migrated = _app_on(app, _normalise_db_url(app_url), _normalise_db_url(owner_url))
    try:
        with migrated.app_context():
            try:
                ids = _seed_at_before(_normalise_db_url(owner_url), monkeypatch)
                upgrade()  # as the owner, under FORCE ROW LEVEL SECURITY
                _check(ids, monkeypatch)  # as the app role
                db.session.remove()
                with psycopg.connect(owner_url) as conn:
                    row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                       "'uq_booking_orders_one_per_day'").fetchone()
                    assert "UNIQUE" in row[0] and "pay_at_clinic" in row[0]
                downgrade(revision=BEFORE)
                upgrade()
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            for _ in range(100):  # the app role's closed connections may take a moment to leave the server
                if conn.execute("SELECT 1 FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone() is None:
                    break
                sleep(0.1)
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migration_cancels_duplicates_on_sqlite(app, tmp_path, monkeypatch):
    from tenants.db import db

    url = f"sqlite:///{tmp_path / 'duplicates.db'}"
    migrated = _app_on(app, url, url)
    with migrated.app_context():
        try:
            ids = _seed_at_before(url, monkeypatch)
            upgrade()
            _check(ids, monkeypatch)
            db.session.remove()
            downgrade(revision=BEFORE)
            upgrade()
        finally:
            db.session.remove()
            db.engine.dispose()
