"""Staff start a plan from the patient page: baselines from the latest results,
follow-up tasks on the schedule for the responsible staff member, reminders for
the patient (no health content), an audit entry; bad input is shown next to
its field; closing with an outcome cancels what has not happened yet."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.followups.models import FollowupTask
from app.interventions.plan_models import CarePlan
from app.notifications.models import Notification
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today
from tests.interventions.helpers import MOBILE, start_form, store

pytestmark = pytest.mark.time_sensitive


@pytest.fixture
def clinic(app, make_tenant, make_staff, make_patient):
    tenant = make_tenant("康宁健康管理中心")
    manager = make_staff(tenant, "health_manager")
    patient = make_patient(tenant, name="王晓燕", mobile=MOBILE)
    store(app, tenant, patient.id, "8480-6", 150, "mm[Hg]")
    return tenant, manager, patient


def _start(client_for, tenant, manager, patient, **extra):
    client = client_for(tenant, manager.email)
    token = client.csrf()
    page = client.get(f"/patients/{patient.id}/plans/new/hypertension")
    assert page.status_code == 200 and "150" in page.get_data(as_text=True)  # the baseline
    form = start_form(manager.id, today=clinic_today(), csrf_token=token, **extra)
    return client, client.post(f"/patients/{patient.id}/plans/new/hypertension", data=form)


def test_starting_schedules_tasks_and_reminders(app, client_for, clinic):
    tenant, manager, patient = clinic
    _client, response = _start(client_for, tenant, manager, patient)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    with app.app_context(), tenant_context(tenant.id):
        plan = db.session.scalar(select(CarePlan))
        today = plan.start_date  # the clinic's day when it started (the clock moves on during the test)
        assert plan.status == "active" and plan.responsible_id == manager.id
        assert today in (clinic_today(), clinic_today() - timedelta(days=1))
        systolic = next(g for g in plan.goals if g["key"] == "systolic")
        assert systolic["baseline"] == 150 and systolic["target"] == 130
        assert date.fromisoformat(systolic["due"]) - today in (timedelta(days=90), timedelta(days=89))
        tasks = db.session.scalars(select(FollowupTask).order_by(FollowupTask.due_date)).all()
        days = [t.due_date for t in tasks]
        assert today + timedelta(days=14) in days and today + timedelta(days=42) in days
        assert date.fromisoformat(systolic["due"]) in days and plan.end_date in days
        assert all(t.assignee_id == manager.id and t.status == "pending" for t in tasks)
        assert sorted(plan.scheduled["tasks"]) == sorted(t.id for t in tasks)
        messages = db.session.scalars(select(Notification).where(Notification.recipient_id == patient.id)).all()
        keys = [m.template_key for m in messages]
        assert "care_plan_started" in keys
        weekly = [m for m in messages if m.template_key == "care_plan_reminder"]
        assert len({m.scheduled_at.date() for m in weekly}) >= 10  # a week apart until the end
        for message in messages:
            assert "血压" not in message.body_text and "130" not in message.body_text  # no health content
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "care_plan_started"))


def test_bad_input_is_shown_by_its_field_with_the_typing_kept(client_for, clinic):
    tenant, manager, patient = clinic
    _client, response = _start(client_for, tenant, manager, patient, **{
        "goal-systolic-target": "abc", "action-walk-per_week": "9", "responsible": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="goal-systolic-target-error"' in body and 'value="abc"' in body
    assert 'id="action-walk-per_week-error"' in body and 'value="9"' in body
    assert 'id="responsible-error"' not in body or "responsible" in body


def test_closing_cancels_pending_tasks_and_unsent_reminders(app, client_for, clinic):
    tenant, manager, patient = clinic
    client, response = _start(client_for, tenant, manager, patient)
    plan_url = response.headers["Location"]
    page = client.get(plan_url)
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
    close_url = plan_url + "/close"
    refused = client.post(close_url, data={"csrf_token": client.csrf(), "outcome": "maybe", "note": "部分达标"})
    assert refused.status_code == 422 and "部分达标" in refused.get_data(as_text=True)
    done = client.post(close_url, data={"csrf_token": client.csrf(), "outcome": "partly", "note": "血压下降"})
    assert done.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        plan = db.session.scalar(select(CarePlan))
        assert plan.status == "closed" and plan.outcome == "partly" and plan.outcome_note == "血压下降"
        assert {t.status for t in db.session.scalars(select(FollowupTask))} == {"cancelled"}
        weekly = db.session.scalars(select(Notification).where(Notification.template_key == "care_plan_reminder"))
        assert {m.status for m in weekly} == {"cancelled"}
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "care_plan_closed"))
    again = client.post(close_url, data={"csrf_token": client.csrf(), "outcome": "met"})
    assert again.status_code == 422  # closed once
