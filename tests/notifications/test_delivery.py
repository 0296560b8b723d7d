"""How sends are made: one SMTP session per worker kept between messages,
replaced when the server has closed it; a stable Message-ID; a sweep that
leaves queued jobs alone and a sweep schedule that is not read on every send."""
import re

import pytest
from sqlalchemy import select

from app.core import jobs
from app.notifications import jobs as notify_jobs
from app.notifications import services
from app.notifications.models import Notification
from app.patients.models import Patient
from tenants.db import db

pytestmark = pytest.mark.redis

BOOKING = {"patient_name": "王晓燕", "package": "入职体检", "date": "2026-12-03", "time": "08:30",
           "clinic": "康宁", "order_no": "DE1"}


def _queue(as_tenant, tenant, patient_id, *keys) -> list[int]:
    with as_tenant(tenant):
        recipient = services.patient_recipient(db.session.get(Patient, (tenant.id, patient_id)))
        rows = [services.notify("booking_confirmation", recipient, BOOKING, idempotency_key=key,
                                channels=("email",))[0] for key in keys]
        db.session.commit()
        return [row.id for row in rows]


def _rows(as_tenant, tenant, ids) -> list[Notification]:
    with as_tenant(tenant):
        return list(db.session.scalars(select(Notification).where(Notification.id.in_(ids))
                                       .order_by(Notification.id)))


def test_one_session_carries_many_messages_each_with_its_stable_message_id(make_tenant, make_patient, as_tenant,
                                                                        mail, drain):
    tenant = make_tenant()
    patient = make_patient(tenant, email="xiaoyan@example.cn")
    ids = _queue(as_tenant, tenant, patient.id, "s1", "s2", "s3")
    drain()
    assert sorted(m["Message-ID"] for m in mail.messages) == sorted(f"<{tenant.id}.{i}@careloop>" for i in ids)
    assert len(set(mail.peers)) == 1  # one connection, one STARTTLS and AUTH
    assert all(row.status == "sent" and row.attempts == 1 for row in _rows(as_tenant, tenant, ids))
    headers = mail.raw[0].split(b"\r\n\r\n")[0].replace(b"\r\n ", b" ")  # unfolded
    assert re.search(rb"^List-Unsubscribe:\s+<https?://\S+/unsubscribe/[^>\s]+>\r$", headers, re.M)  # no encoded words


def test_a_kept_session_the_server_closed_is_replaced_before_anything_is_sent(make_tenant, make_patient,
                                                                            as_tenant, mail, drain):
    tenant = make_tenant()
    patient = make_patient(tenant, email="xiaoyan@example.cn")
    first = _queue(as_tenant, tenant, patient.id, "h1")
    drain()
    second = _queue(as_tenant, tenant, patient.id, "h2")
    mail.hang_up_next = 1
    drain()  # MAIL on the kept session fails: a new session sends it, within the same attempt
    assert [m["Message-ID"] for m in mail.messages] == [f"<{tenant.id}.{i}@careloop>" for i in first + second]
    assert len(set(mail.peers)) == 2
    assert [(r.status, r.attempts) for r in _rows(as_tenant, tenant, first + second)] == [("sent", 1)] * 2


def test_the_sweep_requeues_only_messages_whose_job_is_gone(app, make_tenant, make_patient, as_tenant, mail,
                                                          drain, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_REQUEUE_GRACE_SECONDS", 0)
    tenant = make_tenant()
    patient = make_patient(tenant, email="xiaoyan@example.cn")
    [row_id] = _queue(as_tenant, tenant, patient.id, "w1")
    job_id = f"notification-{row_id}"
    with app.app_context():  # other tests' clinics may have rows for the sweep too: count this one's job
        queue = jobs.queue("notifications")
        notify_jobs.sweep(reschedule=False)
        assert queue.get_job_ids().count(job_id) == 1  # still queued: not queued twice
        queue.empty()  # as if Redis had lost it
        notify_jobs.sweep(reschedule=False)
        assert queue.get_job_ids().count(job_id) == 1
    drain()
    assert [m["Message-ID"] for m in mail.messages].count(f"<{tenant.id}.{row_id}@careloop>") == 1


def test_the_sweep_schedule_is_read_once_per_interval(app):
    with app.app_context():
        registry = jobs.queue("notifications").scheduled_job_registry
        app.extensions.pop(notify_jobs._SWEEP_CHECKED, None)
        notify_jobs.ensure_sweep_scheduled()
        assert jobs.namespaced(notify_jobs.SWEEP_JOB_ID) in registry
        registry.remove(jobs.namespaced(notify_jobs.SWEEP_JOB_ID))
        notify_jobs.ensure_sweep_scheduled()  # asked again within the interval: Redis is not read
        assert jobs.namespaced(notify_jobs.SWEEP_JOB_ID) not in registry
        app.extensions[notify_jobs._SWEEP_CHECKED] -= notify_jobs.SWEEP_EVERY.total_seconds()
        notify_jobs.ensure_sweep_scheduled()
        assert jobs.namespaced(notify_jobs.SWEEP_JOB_ID) in registry
