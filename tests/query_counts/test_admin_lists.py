"""The audit trail, the risk population view and the tag rules run as many
statements for 200 rows as for 20."""
import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.query_counts.conftest import add_patients

pytestmark = pytest.mark.postgres


def test_audit_trail(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    # each card opened is an audit event naming the patient; the filter keeps the owner's own sign-in
    # (a staff name to look up) off both pages, as it falls off the first page at 200 events
    same_count(owner, "/audit?action=patient_enrolled", lambda n: add_patients(app, tenant, n), shows="测试")


def test_risk_population(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    # enrolment assesses each new card (not assessed for want of inputs: listed as missing)
    same_count(owner, "/risk", lambda n: add_patients(app, tenant, n), shows="测试")


def add_rules(app, tenant, n: int) -> None:
    """n rules, each with its own tag, copying the condition of a pack rule."""
    from app.tagging import rules
    from app.tagging.models import TagRule

    with app.app_context(), tenant_context(tenant.id):
        model = rules.list_rules()[0]
        start = len(rules.list_rules())
        for i in range(start, start + n):
            tag = rules.tag_named(f"标签{i:04d}")
            db.session.add(TagRule(name=f"规则{i:04d}", tag_id=tag.id, condition=model.condition,
                                   source=model.source, active=True))
        db.session.commit()


def test_tag_rules(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    add_patients(app, tenant, 3)
    owner = client_for(tenant, tenant.owner_email)
    same_count(owner, "/tagging/rules", lambda n: add_rules(app, tenant, n), shows="规则")


def test_risk_population_by_band_and_change(app, make_tenant, client_for, same_count):
    from datetime import timedelta

    from sqlalchemy import delete

    from app.followups.models import FollowupPlan, PlanEnrolment
    from app.risk.models import RiskAssessment
    from tests.query_counts.conftest import clinic_now

    model = "framingham_cvd"
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    with app.app_context(), tenant_context(tenant.id):
        plan = FollowupPlan(name="心血管高危随访", trigger="booking_completed", schedule="days", offsets=[7],
                            channel="phone", active=True)
        db.session.add(plan)
        db.session.commit()
        plan_id = plan.id

    def seed(n: int) -> None:  # each with a previous and a current band; half following a plan
        ids = add_patients(app, tenant, n)
        with app.app_context(), tenant_context(tenant.id):
            db.session.execute(delete(RiskAssessment).where(RiskAssessment.patient_id.in_(ids)))
            now = clinic_now()
            for i, patient_id in enumerate(ids):
                for band, value, when, current in (("intermediate", 12.0, now - timedelta(days=300), False),
                                                   (("low", "high")[i % 2], 5.0 + i % 20, now, True)):
                    db.session.add(RiskAssessment(patient_id=patient_id, model=model, version=1, status="ok",
                                                  value=value, value_text=f"{value:.1f}", unit="%", band=band,
                                                  missing=[], computed_at=when, is_current=current))
                if i % 2:
                    db.session.add(PlanEnrolment(plan_id=plan_id, patient_id=patient_id, status="active",
                                                 started_by="测试"))
            db.session.commit()

    same_count(owner, f"/risk?model={model}&changed=any&unplanned=1", seed, shows="测试")
