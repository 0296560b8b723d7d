"""A worker killed with SIGKILL in the middle of a send: after recovery the
message is delivered exactly once, counted at the server."""
import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from app.core import jobs
from app.notifications import jobs as notify_jobs
from app.notifications import services
from app.notifications.models import Notification
from app.patients.models import Patient
from tenants.db import db
from tests import child_process
from tests.notifications.aliyun_server import fake_aliyun

# two processes share one real database
pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.time_sensitive]
CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "DATABASE_OWNER_URL", "REDIS_URL", "RQ_NAMESPACE", "SECRET_KEY", "DATA_KEY",
               "MAIL_URL", "SMS_URL", "SMS_TEMPLATE_CODES", "STORAGE_URL", "NOTIFY_BACKOFF_SECONDS")
BOOKING = {"patient_name": "王晓燕", "package": "入职体检", "date": "2026-12-03", "time": "08:30",
           "clinic": "康宁", "order_no": "DE1"}
SMS_TEMPLATES = {"CARELOOP_BOOKING_CONFIRMATION": {"patient_name", "package", "date", "time", "clinic", "order_no"}}


@pytest.fixture(autouse=True)
def forget_the_killed_job(app):
    """The killed worker's job stays in the started registry (nothing will
    finish it). Left there, a later test that moves the clock hours on would
    see a worker's maintenance file it as abandoned among the failed jobs."""
    yield
    with app.app_context():
        registry = jobs.queue("notifications").started_job_registry
        jobs.redis_connection().delete(registry.key)


def _start_worker(app) -> subprocess.Popen:
    return child_process.start(app, "tests.notifications.worker_process", keys=CONFIG_KEYS)


def _wait_for(check, timeout: float = 90.0):  # a worker process starts slowly on a loaded machine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _row(app, as_tenant, tenant, key):
    with as_tenant(tenant):
        return db.session.scalar(select(Notification).where(Notification.idempotency_key == key))


def _queue_booking(as_tenant, tenant, patient_id, key, channel):
    with as_tenant(tenant):
        patient = db.session.get(Patient, (tenant.id, patient_id))
        row = services.notify("booking_confirmation", services.patient_recipient(patient), BOOKING,
                              idempotency_key=key, channels=(channel,))[0]
        db.session.commit()
        return row.id


def _recover(app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_STUCK_SECONDS", 0)
    monkeypatch.setitem(app.config, "NOTIFY_REQUEUE_GRACE_SECONDS", 0)
    with app.app_context():
        return notify_jobs.sweep(reschedule=False)


def _mine(mail, tenant, row_id):
    return [m for m in mail.messages if f"{tenant.id}.{row_id}@careloop" in m["Message-ID"]]


def test_killed_before_the_server_accepted(app, make_tenant, make_patient, as_tenant, mail, drain, monkeypatch):
    tenant = make_tenant()
    patient = make_patient(tenant, email="kill@example.cn")
    row_id = _queue_booking(as_tenant, tenant, patient.id, "kill-a", "email")
    mail.stall_rcpt = 15
    worker = _start_worker(app)
    assert mail.rcpt_seen.wait(90)
    assert _row(app, as_tenant, tenant, "kill-a:email").status == "sending"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    mail.stall_rcpt = 0
    assert _recover(app, monkeypatch)["recovered"] >= 1
    drain()
    _recover(app, monkeypatch)
    drain()  # a second sweep and drain change nothing
    assert len(_mine(mail, tenant, row_id)) == 1
    row = _row(app, as_tenant, tenant, "kill-a:email")
    assert row.status == "sent" and row.attempts == 2


def test_killed_while_the_server_was_accepting(app, make_tenant, make_patient, as_tenant, mail, drain,
                                               monkeypatch):
    tenant = make_tenant()
    patient = make_patient(tenant, email="kill@example.cn")
    row_id = _queue_booking(as_tenant, tenant, patient.id, "kill-b", "email")
    mail.stall_after_data = 15
    worker = _start_worker(app)
    assert mail.data_seen.wait(90)
    _wait_for(lambda: _row(app, as_tenant, tenant, "kill-b:email").stage == "committing")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    mail.stall_after_data = 0
    assert _recover(app, monkeypatch)["unknown"] >= 1
    drain()
    assert len(_mine(mail, tenant, row_id)) == 1
    row = _row(app, as_tenant, tenant, "kill-b:email")
    assert row.status == "failed" and "outcome unknown" in row.last_error  # staff decide; nothing resent


def test_killed_after_the_sms_provider_accepted(app, make_tenant, make_patient, as_tenant, drain, monkeypatch):
    with fake_aliyun({"LTAIkill": "kill-secret"}, {"康宁"}, SMS_TEMPLATES) as provider:
        monkeypatch.setitem(app.config, "SMS_URL", f"aliyun+http://LTAIkill:kill-secret@{provider.url.split('//')[1]}"
                                                   "?sign_name=%E5%BA%B7%E5%AE%81")
        tenant = make_tenant()
        patient = make_patient(tenant, mobile="13912340000")
        _queue_booking(as_tenant, tenant, patient.id, "kill-c", "sms")
        provider.delay_seconds = 15
        worker = _start_worker(app)
        _wait_for(lambda: provider.sent)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        provider.delay_seconds = 0
        assert _recover(app, monkeypatch)["sent"] >= 1
        drain()
        mine = [m for m in provider.sent if m.phone == "13912340000"]
        assert len(mine) == 1 and mine[0].params["package"] == "入职体检"
        assert _row(app, as_tenant, tenant, "kill-c:sms").status == "sent"
