"""The morning digest: one message per person with tasks due or overdue, through the outbox."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.followups.models import FollowupTask
from app.notifications.models import Notification
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)


def test_digest_counts_due_and_overdue_once_per_person_and_day(app, make_tenant, make_staff, make_patient):
    tenant = make_tenant("康宁健康管理中心")
    busy = make_staff(tenant, "health_manager", email="busy.manager@kangning.example.cn")
    idle = make_staff(tenant, "health_manager", email="idle.manager@kangning.example.cn")
    broken = make_staff(tenant, "health_manager")  # an address that cannot take email: in-app only
    patient = make_patient(tenant)
    today = clinic_today()
    with app.app_context(), tenant_context(tenant.id):
        for due in (today, today, today - timedelta(days=3), today + timedelta(days=2)):
            db.session.add(FollowupTask(patient_id=patient.id, assignee_id=busy.id, due_date=due))
        db.session.add(FollowupTask(patient_id=patient.id, assignee_id=idle.id, due_date=today - timedelta(days=1),
                                    status="done"))
        db.session.add(FollowupTask(patient_id=patient.id, assignee_id=broken.id, due_date=today))
        db.session.commit()
    runner = app.test_cli_runner()
    for _ in range(2):  # a second run the same day sends nothing new
        result = runner.invoke(args=["followups", "digest", "--after", "00:00"])
        assert result.exit_code == 0, result.output
    with app.app_context(), tenant_context(tenant.id):
        rows = list(db.session.scalars(select(Notification).where(Notification.template_key == "followup_digest")))
    assert sorted((r.recipient_id, r.channel) for r in rows) == [(busy.id, "email"), (busy.id, "inapp"),
                                                                  (broken.id, "inapp")]
    rows = [r for r in rows if r.recipient_id == busy.id]
    inapp = next(r for r in rows if r.channel == "inapp")
    assert "2 项到期" in inapp.subject and "1 项逾期" in inapp.subject
    email = next(r for r in rows if r.channel == "email")
    assert f"{tenant.slug}.localhost/followups" in email.body_text and "康宁健康管理中心" in email.body_text


def test_the_digest_waits_for_the_clinics_morning(app, make_tenant, make_staff, make_patient, pinned_clock):
    from tests.booking.conftest import at_clinic

    tenant = make_tenant()
    manager = make_staff(tenant, "health_manager")
    patient = make_patient(tenant)
    today = clinic_today()
    with app.app_context(), tenant_context(tenant.id):
        db.session.add(FollowupTask(patient_id=patient.id, assignee_id=manager.id, due_date=today))
        db.session.commit()
    runner = app.test_cli_runner()
    pinned_clock.move_to(at_clinic(today, 6, 30))
    assert f"{tenant.slug} not yet" in runner.invoke(args=["followups", "digest"]).output
    pinned_clock.move_to(at_clinic(today, 7, 5))
    assert f"{tenant.slug} 1" in runner.invoke(args=["followups", "digest"]).output
