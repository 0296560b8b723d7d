"""Patients reminded the day before a follow-up call or visit, for plans that
ask for it, through the outbox: once per patient and day, whatever the runs."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.followups import triggers
from app.followups.models import FollowupPlan
from app.notifications.models import Notification
from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)


def _plan(name, channel, remind):
    plan = FollowupPlan(name=name, trigger="enrolment", schedule="days", offsets=[1], channel=channel,
                        remind_patient=remind, active=False)
    db.session.add(plan)
    db.session.flush()
    return plan


def test_reminders_for_calls_and_visits_of_plans_that_ask(app, make_tenant, make_staff, make_patient):
    tenant = make_tenant("康宁健康管理中心")
    make_staff(tenant, "health_manager")  # the one who gets the tasks
    called, visiting, quiet, archived, bad_email = (make_patient(tenant, name=n)
                                                    for n in ("赵一", "钱二", "孙三", "李四", "周五"))
    with app.app_context(), tenant_context(tenant.id):
        phone, visit = _plan("电话随访", "phone", True), _plan("到院复查", "visit", True)
        silent, message = _plan("不提醒", "phone", False), _plan("短信随访", "message", False)
        db.session.get(Patient, (tenant.id, visiting.id)).email = "qian.er@example.cn"
        db.session.get(Patient, (tenant.id, bad_email.id)).email = "zhou.wu@@example"  # cannot take email
        for plan, patient in ((phone, called), (visit, visiting), (silent, quiet), (message, called),
                              (phone, archived), (phone, bad_email)):
            triggers.enrol(plan, patient.id, started_by="test")  # one task, due tomorrow
        db.session.get(Patient, (tenant.id, archived.id)).archived_at = datetime.now(timezone.utc)
        db.session.commit()

    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["followups", "remind", "--after", "00:00"])
        assert result.exit_code == 0 and f"{tenant.slug} 3" in result.output, result.output

    with app.app_context(), tenant_context(tenant.id):
        rows = list(db.session.scalars(select(Notification).where(Notification.recipient_type == "patient")))
    sent = sorted((r.recipient_id, r.template_key, r.channel) for r in rows)
    assert sent == sorted([(called.id, "followup_reminder", "sms"), (bad_email.id, "followup_reminder", "sms"),
                           (visiting.id, "followup_visit_reminder", "sms"),
                           (visiting.id, "followup_visit_reminder", "email")])
    tomorrow = (clinic_today() + timedelta(days=1)).isoformat()
    visit_sms = next(r for r in rows if r.template_key == "followup_visit_reminder" and r.channel == "sms")
    assert visit_sms.body_text.startswith("【康宁健康管理中心】钱二") and tomorrow in visit_sms.body_text
    assert "到院随访" in visit_sms.body_text and "health_manager user" in visit_sms.body_text


def test_a_reminder_is_only_for_phone_and_visit_plans(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    form = {"name": "短信关怀", "trigger": "enrolment", "schedule": "days", "offsets": "7", "channel": "message",
            "max_attempts": "3", "active": "y", "remind_patient": "y"}
    refused = client.submit("/followups/plans/new", form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="remind_patient-error"' in page and "短信关怀" in page
    saved = client.submit("/followups/plans/new", dict(form, channel="visit"))
    assert saved.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        plan = db.session.scalar(select(FollowupPlan).where(FollowupPlan.name == "短信关怀"))
        assert plan.remind_patient and plan.channel == "visit"
