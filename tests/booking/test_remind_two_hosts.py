"""A daily command started on two hosts at once works in each clinic once: the clinic's lock makes the
second wait for the first, which it then finds done."""
import subprocess
import time
from datetime import date, timedelta
from datetime import time as clock_time

import pytest
from sqlalchemy import select, text

from app.booking import services
from app.booking.cli import REMIND_LOCK
from app.notifications.models import Notification
from tenants.context import tenant_context
from tenants.db import db, owner_engine
from tenants.services import lock_clinic_work
from tests import child_process
from tests.booking.conftest import FIRST_SLOT, at_clinic
from tests.clock import clinic_today

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "DATABASE_OWNER_URL", "REDIS_URL", "RQ_NAMESPACE", "SECRET_KEY", "DATA_KEY",
               "STORAGE_URL", "DATABASE_TRANSACTION_POOLING")
WAITING = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
               "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def _flask(app, *args: str) -> subprocess.Popen:
    return child_process.start(app, "tests.cli_process", *args, keys=CONFIG_KEYS, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)


def _waiting_on_locks(app) -> int:
    with app.app_context(), owner_engine().connect() as connection:
        return connection.scalar(WAITING)


def test_booking_remind_on_two_hosts_at_once_reminds_once(app, as_tenant, make_tenant, make_patient, make_package,
                                                          pinned_clock):
    from app.patients import services as patients

    tenant = make_tenant()
    patient = make_patient(tenant, name="王晓燕", sex="F", birth_date=date(1985, 3, 2))
    package = make_package(tenant, preparation="请携带身份证。")
    today = clinic_today()
    tomorrow = today + timedelta(days=1)
    pinned_clock.move_to(at_clinic(today, 12, 0))
    with as_tenant(tenant):
        services.add_override(tomorrow, FIRST_SLOT, clock_time(8, 30), 5)  # open even on a Sunday
        db.session.commit()
        services.book(package.id, tomorrow, FIRST_SLOT, patients.get(patient.id), idempotency_key="two-hosts")
        db.session.commit()
    pinned_clock.move_to(at_clinic(today, 18, 1))

    with app.app_context(), tenant_context(tenant.id):
        lock_clinic_work(REMIND_LOCK, tenant.id)  # held here until the rollback below
        hosts = [_flask(app, "booking", "remind"), _flask(app, "booking", "remind")]
        deadline = time.monotonic() + 120  # two processes start slowly on a loaded machine
        while _waiting_on_locks(app) < 2:
            assert time.monotonic() < deadline, [host.poll() for host in hosts]
            assert all(host.poll() is None for host in hosts), [host.communicate() for host in hosts]
            time.sleep(0.1)
        db.session.rollback()  # both hosts wait on the clinic's lock; let them go
    outputs = [host.communicate(timeout=120)[0] for host in hosts]
    assert [host.returncode for host in hosts] == [0, 0], outputs
    assert all(f"{tenant.slug} 1" in output for output in outputs), outputs  # each found the one order
    with as_tenant(tenant):
        reminders = db.session.scalars(select(Notification).where(
            Notification.template_key == "booking_reminder")).all()
        assert len(reminders) == 1
