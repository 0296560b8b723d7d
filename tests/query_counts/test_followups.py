"""The workbench (a health manager's tasks) and the follow-up overview run
as many statements for 200 tasks as for 20."""
from datetime import timedelta

import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.query_counts.conftest import add_patients, clinic_now

pytestmark = pytest.mark.postgres


def add_tasks(app, tenant, n: int, assignee_id: int, *, days_from_today: int, escalate_to: int | None = None,
              plan_id: int | None = None):
    """n patients with one pending phone task each, through the followups capability."""
    from app.core import clock
    from app.followups import services as followups

    ids = add_patients(app, tenant, n, health_manager_id=assignee_id)
    with app.app_context(), tenant_context(tenant.id):
        due = clock.today() + timedelta(days=days_from_today)
        for patient_id in ids:
            task = followups.add_task(patient_id, assignee_id=assignee_id, due_date=due, plan_id=plan_id)
            if escalate_to is not None:
                task.escalated_to, task.escalated_at = escalate_to, clinic_now()
        db.session.commit()


def test_workbench(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    manager = make_staff(tenant, "health_manager")
    client = client_for(tenant, manager.email)

    with app.app_context(), tenant_context(tenant.id):
        from app.followups.models import FollowupPlan

        plan = FollowupPlan(name="血压随访计划", trigger="booking_completed", schedule="days", offsets=[7],
                            channel="phone", active=True)
        db.session.add(plan)
        db.session.commit()
        plan_id = plan.id

    def seed(n: int) -> None:  # today's (half of a plan), some overdue and some in the coming days
        add_tasks(app, tenant, n // 2, manager.id, days_from_today=0)
        add_tasks(app, tenant, n // 4, manager.id, days_from_today=0, plan_id=plan_id)
        add_tasks(app, tenant, n // 8, manager.id, days_from_today=-2, plan_id=plan_id)
        add_tasks(app, tenant, n // 8, manager.id, days_from_today=3)

    same_count(client, "/followups", seed, shows="血压随访计划")


def test_health_manager_home(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    manager = make_staff(tenant, "health_manager")
    client = client_for(tenant, manager.email)

    def seed(n: int) -> None:
        add_tasks(app, tenant, n // 2, manager.id, days_from_today=0)
        add_tasks(app, tenant, n // 2, manager.id, days_from_today=-3)

    same_count(client, "/", seed, shows="测试")


def test_overview(app, make_tenant, make_staff, client_for, same_count):
    tenant = make_tenant()
    managers = [make_staff(tenant, "health_manager") for _ in range(2)]
    owner = client_for(tenant, tenant.owner_email)

    def seed(n: int) -> None:  # overdue tasks of two people, a quarter of them escalated
        half = n // 2
        add_tasks(app, tenant, half, managers[0].id, days_from_today=-5)
        add_tasks(app, tenant, half - half // 2, managers[1].id, days_from_today=-1)
        add_tasks(app, tenant, half // 2, managers[1].id, days_from_today=-8, escalate_to=managers[0].id)

    same_count(owner, "/followups/overview", seed, shows="测试")
