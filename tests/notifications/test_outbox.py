"""The outbox: written in the caller's transaction, sent once, retried,
refused when it cannot work, held back by consent, quiet hours and the cap."""
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from app.auth.models import StaffUser
from app.notifications import jobs as notify_jobs
from app.notifications import policy, services
from app.notifications.models import Notification, NotificationSettings
from app.patients.models import Patient
from tenants.db import db

pytestmark = [pytest.mark.redis, pytest.mark.time_sensitive]

BOOKING = {"patient_name": "王晓燕", "package": "入职体检", "date": "2026-12-03", "time": "08:30",
           "clinic": "康宁", "order_no": "DE1"}
NOON = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


def _patient(make_patient, tenant, **extra):
    return make_patient(tenant, name="王晓燕", sex="F", email=extra.pop("email", "xiaoyan@example.cn"), **extra)


def _recipient(tenant, patient_id):
    return services.patient_recipient(db.session.get(Patient, (tenant.id, patient_id)))


def _rows(key_prefix=""):
    return list(db.session.scalars(select(Notification).where(Notification.idempotency_key.startswith(key_prefix))))


def test_rollback_never_notifies_commit_always_does(app, make_tenant, make_patient, as_tenant, mail, drain):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    with as_tenant(tenant):
        services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                        idempotency_key="order-1", channels=("email",))
        db.session.rollback()
        assert _rows("order-1") == []
    drain()
    assert mail.messages == []
    with as_tenant(tenant):
        services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                        idempotency_key="order-1", channels=("email",))
        db.session.commit()
    drain()
    with as_tenant(tenant):
        row = _rows("order-1")[0]
        assert len(mail.messages) == 1, (row.status, row.last_error, row.attempts)
    message = mail.messages[0]
    assert message["To"] == "xiaoyan@example.cn" and "入职体检" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
             if not part.is_multipart()}
    assert "入职体检" in parts["text/plain"] and "<p>" in parts["text/html"]
    assert "/unsubscribe/" in parts["text/html"] and message["List-Unsubscribe"]
    with as_tenant(tenant):
        row = _rows("order-1")[0]
        assert row.status == "sent" and row.attempts == 1 and "queued as" in row.provider_id


def test_same_key_and_duplicated_jobs_deliver_once(app, make_tenant, make_patient, as_tenant, mail, drain):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    for _ in range(2):
        with as_tenant(tenant):
            services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                            idempotency_key="dup", channels=("email",))
            db.session.commit()
    with as_tenant(tenant):
        rows = _rows("dup")
        assert len(rows) == 1
        for _ in range(3):  # a retried or duplicated job
            notify_jobs.enqueue_send(tenant.id, rows[0].id)
    drain()
    assert len(mail.messages) == 1


def test_invalid_addresses_are_refused_at_creation(app, make_tenant, make_patient, as_tenant):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant, email="")
    with as_tenant(tenant):
        recipient = _recipient(tenant, patient.id)
        with pytest.raises(services.NotifyError, match="王晓燕"):
            services.notify("booking_confirmation", recipient, BOOKING, idempotency_key="x", channels=("email",))
        recipient.mobile = "12345"
        with pytest.raises(services.NotifyError, match="12345"):
            services.notify("booking_confirmation", recipient, BOOKING, idempotency_key="y", channels=("sms",))
        with pytest.raises(services.NotifyError, match="booking_confirmation"):
            services.notify("booking_confirmation", _recipient(tenant, patient.id), {"patient_name": "x"},
                            idempotency_key="z", channels=("sms",))
        assert _rows() == []

        good = _recipient(tenant, patient.id)  # a bad email first: channel by channel, the SMS still goes
        good.email = "wang@@example"
        sent = services.notify("booking_confirmation", good, BOOKING, idempotency_key="v",
                               channels=("email", "sms"), channel_by_channel=True)
        assert [row.channel for row in sent] == ["sms"] and [r.channel for r in _rows()] == ["sms"]


def test_unknown_placeholder_fails_the_preview_not_the_send(make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    url = "/notifications/templates/booking_confirmation/sms/zh_CN"
    preview = client.submit(url + "/preview", {"body_text": "{{ patient_name }} {{ price }}"},
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Unknown placeholder price" in preview and "order_no" in preview
    good = client.submit(url + "/preview", {"body_text": "{{ patient_name }}，{{ date }} 见"},
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "王晓燕，2026-12-03 见" in good
    refused = client.submit(url, {"body_text": "{{ price }}"})
    assert refused.status_code == 400 and 'id="body_text-error"' in refused.get_data(as_text=True)
    broken = client.submit(url, {"body_text": "{{ patient_name "})
    assert broken.status_code == 400 and "Template error" in broken.get_data(as_text=True)
    saved = client.submit(url, {"body_text": "【康宁】{{ patient_name }}，预约已确认"})
    assert saved.status_code == 302
    assert "预约已确认" in client.get("/notifications/templates").get_data(as_text=True)


def test_smtp_down_retries_then_fails_with_the_error(app, make_tenant, make_patient, as_tenant, mail, drain,
                                                     monkeypatch):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://127.0.0.1:9/?timeout=2")  # nothing listens
    with as_tenant(tenant):
        services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                        idempotency_key="down", channels=("email",))
        db.session.commit()
    drain()
    with as_tenant(tenant):
        row = _rows("down")[0]
        assert row.status == "failed" and row.attempts == services.MAX_ATTEMPTS
        assert "unreachable" in row.last_error


def test_temporary_refusals_are_retried(app, make_tenant, make_patient, as_tenant, mail, drain):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    mail.refuse_next = 2
    with as_tenant(tenant):
        services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                        idempotency_key="busy", channels=("email",))
        db.session.commit()
    drain()
    assert len(mail.messages) == 1
    with as_tenant(tenant):
        row = _rows("busy")[0]
        assert row.status == "sent" and row.attempts == 3


def test_quiet_hours_hold_what_the_clinic_starts_not_what_the_patient_just_did(app, make_tenant, make_patient,
                                                                                 as_tenant):
    tenant = make_tenant(timezone="Asia/Shanghai")
    patient = _patient(make_patient, tenant)
    late = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)  # 23:30 in Shanghai
    with as_tenant(tenant):
        recipient = _recipient(tenant, patient.id)
        reminder = services.notify("booking_reminder", recipient, dict(BOOKING, preparation="空腹"),
                                   idempotency_key="q0", channels=("email",), at=late)[0]
        confirmation = services.notify("booking_confirmation", recipient, BOOKING, idempotency_key="q1",
                                       channels=("email",), at=late)[0]
        code = services.notify("signin_code", recipient, {"code": "123456", "minutes": 5, "clinic": "康宁"},
                               idempotency_key="q2", channels=("sms",), at=late)[0]
        assert reminder.scheduled_at == datetime(2026, 11, 21, 0, 0, tzinfo=timezone.utc)  # 08:00 next day
        assert confirmation.scheduled_at == late and code.scheduled_at == late
        db.session.rollback()


def test_a_newer_notice_of_a_thread_cancels_the_one_not_yet_sent(app, make_tenant, make_patient, as_tenant):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    with as_tenant(tenant):
        recipient = _recipient(tenant, patient.id)
        reminder = services.notify("booking_reminder", recipient, dict(BOOKING, preparation="空腹"),
                                   idempotency_key="t0", channels=("email",), thread="order:7",
                                   at=datetime.now(timezone.utc) + timedelta(hours=10))[0]
        other = services.notify("booking_reminder", recipient, dict(BOOKING, preparation="空腹"),
                                idempotency_key="t1", channels=("email",), thread="order:8",
                                at=datetime.now(timezone.utc) + timedelta(hours=10))[0]
        changed = services.notify("booking_changed", recipient, dict(BOOKING, preparation="空腹"),
                                  idempotency_key="t2", channels=("email",), thread="order:7")[0]
        assert reminder.status == "cancelled" and "superseded" in reminder.last_error
        assert other.status == "pending" and changed.status == "pending"
        db.session.rollback()


def test_quiet_hours_rule():
    rules = NotificationSettings(quiet_start=time(21), quiet_end=time(8), daily_cap=5)
    assert policy.send_time(NOON, rules) == NOON
    early = datetime(2026, 11, 20, 22, 0, tzinfo=timezone.utc)  # 06:00 next day local
    assert policy.send_time(early, rules) == datetime(2026, 11, 21, 0, 0, tzinfo=timezone.utc)
    daytime = NotificationSettings(quiet_start=time(12), quiet_end=time(14), daily_cap=5)
    assert policy.send_time(NOON, daytime) == NOON + timedelta(hours=2)


def test_daily_cap_and_opt_out(app, make_tenant, make_patient, as_tenant):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    with as_tenant(tenant):
        db.session.add(NotificationSettings(daily_cap=2))
        recipient = _recipient(tenant, patient.id)
        sent = [services.notify("booking_reminder", recipient, dict(BOOKING, preparation="空腹"),
                                idempotency_key=f"cap{i}", channels=("email",), at=NOON)[0] for i in range(3)]
        assert [r.status for r in sent] == ["pending", "pending", "cancelled"]
        assert "daily" in sent[2].last_error
        confirmed = services.notify("booking_confirmation", recipient, BOOKING, idempotency_key="cap-confirm",
                                    channels=("email",), at=NOON)[0]
        assert confirmed.status == "pending"  # what the patient has just done is confirmed beyond the cap
        policy.set_preference(patient.id, "sms", "care", False, source="staff")
        opted_out = services.notify("booking_confirmation", recipient, BOOKING, idempotency_key="sms",
                                    channels=("sms",), at=NOON)[0]
        assert opted_out.status == "cancelled" and "opted out" in opted_out.last_error
        code = services.notify("signin_code", recipient, {"code": "1", "minutes": 5, "clinic": "x"},
                               idempotency_key="code", channels=("sms",), at=NOON)[0]
        assert code.status == "pending"  # security messages ignore marketing/care choices and the cap
        db.session.rollback()


def test_unsubscribe_link_opts_out(app, make_tenant, make_patient, as_tenant, mail, drain, client_for):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    with as_tenant(tenant):
        services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                        idempotency_key="u1", channels=("email",))
        db.session.commit()
    drain()
    link = mail.messages[0]["List-Unsubscribe"].strip("<>")
    path = "/" + link.split("/", 3)[3]
    visitor = client_for(tenant)
    assert visitor.get(path).status_code == 200  # a confirmation page: link scanners change nothing
    with as_tenant(tenant):
        assert policy.is_opted_in(patient.id, "email", "care")
    assert visitor.post(path).status_code == 200  # one-click, as mail clients do it
    with as_tenant(tenant):
        assert not policy.is_opted_in(patient.id, "email", "care")
    assert visitor.get(path[:-3] + "abc").status_code == 404
    other = make_tenant()
    assert client_for(other).post(path).status_code == 404


def test_staff_outbox_resend_and_cancel(app, make_tenant, make_patient, as_tenant, mail, drain, client_for,
                                        monkeypatch):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    good_url = app.config["MAIL_URL"]
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://127.0.0.1:9/?timeout=2")
    with as_tenant(tenant):
        services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                        idempotency_key="r1", channels=("email",))
        later = services.notify("report_ready", _recipient(tenant, patient.id),
                                {"patient_name": "王晓燕", "report": "报告", "clinic": "康宁", "url": "https://x"},
                                idempotency_key="r2", channels=("email",),
                                at=datetime.now(timezone.utc) + timedelta(days=30))[0]
        db.session.commit()
        later_id = later.id
    drain()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    page = client.get("/notifications?status=failed").get_data(as_text=True)
    assert "unreachable" in page and "xi***@example.cn" in page and "xiaoyan@example.cn" not in page
    with as_tenant(tenant):
        failed_id = _rows("r1")[0].id
    monkeypatch.setitem(app.config, "MAIL_URL", good_url)
    assert client.submit(f"/notifications/{failed_id}/resend", headers={"HX-Request": "true"}).status_code == 200
    drain()
    assert len(mail.messages) == 1
    cancelled = client.submit(f"/notifications/{later_id}/cancel", headers={"HX-Request": "true"})
    assert "Cancelled" in cancelled.get_data(as_text=True)
    with as_tenant(tenant):
        assert services.get(later_id).status == "cancelled"


def test_staff_inbox_and_unread_count(app, make_tenant, make_staff, as_tenant, drain, client_for):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    with as_tenant(tenant):
        user = db.session.get(StaffUser, (tenant.id, doctor.id))
        services.notify("abnormal_result_alert", services.staff_recipient(user),
                        {"patient_name": "王晓燕", "card_no": "DE1", "indicator": "空腹血糖", "value": "7.8 mmol/L",
                         "flag": "高", "items": "空腹血糖 7.8 mmol/L (H)", "count": 1, "clinic": "康宁"},
                        idempotency_key="alert", channels=("inapp",))
        db.session.commit()
    drain()
    client = client_for(tenant, doctor.email)
    top = client.get("/").get_data(as_text=True)
    assert 'class="count"' in top and ">1</span>" in top
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "空腹血糖 7.8 mmol/L" in inbox
    with as_tenant(tenant):
        message_id = _rows("alert")[0].id
    client.submit(f"/inbox/{message_id}/read")
    assert 'class="count"' not in client.get("/").get_data(as_text=True)
    owner = client_for(tenant, tenant.owner_email)
    assert owner.submit(f"/inbox/{message_id}/read").status_code == 404  # someone else's message


def test_console_backend_and_dev_outbox(app, make_tenant, make_patient, as_tenant, drain, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_URL", "")
    monkeypatch.setitem(app.config, "SMS_URL", "")
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    with as_tenant(tenant):
        services.notify("signin_code", _recipient(tenant, patient.id), {"code": "654321", "minutes": 5,
                                                                        "clinic": "康宁"},
                        idempotency_key="console", channels=("sms",))
        db.session.commit()
    drain()
    page = client_for(tenant, tenant.owner_email).get("/dev/outbox").get_data(as_text=True)
    assert "验证码为 ******" in page and "654321" not in page  # a sign-in code is kept masked (issue 12)


def test_sweep_command_requeues_due_messages(app, make_tenant, make_patient, as_tenant, mail, drain, monkeypatch):
    tenant = make_tenant()
    patient = _patient(make_patient, tenant)
    with as_tenant(tenant):
        services.notify("booking_confirmation", _recipient(tenant, patient.id), BOOKING,
                        idempotency_key="lost", channels=("email",))
        db.session.commit()
    from app.core import jobs

    with app.app_context():
        jobs.queue("notifications").empty()  # as if Redis had lost the job
    drain()
    assert mail.messages == []
    monkeypatch.setitem(app.config, "NOTIFY_REQUEUE_GRACE_SECONDS", 0)
    result = app.test_cli_runner().invoke(args=["notifications", "sweep"])
    assert result.exit_code == 0 and "requeued" in result.output
    drain()  # other tests' clinics may have lost jobs too: count this clinic's messages
    assert len([m for m in mail.messages if m["Message-ID"].startswith(f"<{tenant.id}.")]) == 1
