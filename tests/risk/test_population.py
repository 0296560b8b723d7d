"""The population view: patients by model and band, filtered by band, by a
change since the previous assessment, by inputs missing and by following no
plan; the counts per band; enrolling the listed patients in a plan; another
clinic's patients never listed; zh and en."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, func, select

from app.core.audit import AuditEvent
from app.followups.models import FollowupPlan, PlanEnrolment
from app.risk.models import RiskAssessment
from tenants.context import tenant_context
from tenants.db import db

MODEL = "framingham_cvd"
LAST_YEAR = datetime(2025, 6, 1, 2, 0, tzinfo=timezone.utc)
THIS_YEAR = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)


def _assess(patient_id, band, *, value=None, status="ok", when=THIS_YEAR, current=True, missing=()):
    db.session.add(RiskAssessment(
        patient_id=patient_id, model=MODEL, version=1, status=status, value=value,
        value_text="" if value is None else f"{value:.1f}", unit="%", band=band, missing=list(missing),
        computed_at=when, is_current=current))


@pytest.fixture
def clinic(app, make_tenant, make_patient):
    """Four patients: one high and high before, one high and intermediate before, one
    intermediate and high before, one not assessed for want of a cholesterol."""
    tenant = make_tenant("康宁健康管理中心")
    names = ("高持平", "高上升", "中下降", "缺胆固醇")
    people = {name: make_patient(tenant, name=name) for name in names}
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(delete(RiskAssessment))  # what enrolment computed: these tests set their own
        ids = {name: person.id for name, person in people.items()}
        _assess(ids["高持平"], "high", value=24.0, when=LAST_YEAR, current=False)
        _assess(ids["高持平"], "high", value=26.0)
        _assess(ids["高上升"], "intermediate", value=12.0, when=LAST_YEAR, current=False)
        _assess(ids["高上升"], "high", value=21.5)
        _assess(ids["中下降"], "high", value=22.0, when=LAST_YEAR, current=False)
        _assess(ids["中下降"], "intermediate", value=15.0)
        _assess(ids["缺胆固醇"], None, status="missing",
                missing=[{"input": "total_cholesterol", "why": "never", "date": None, "max_age_days": 365}])
        plan = FollowupPlan(name="心血管高危随访", trigger="booking_completed", schedule="days",
                            offsets=[7], channel="phone", active=True)
        # a tag-started plan ends enrolments of patients without the tag: not offered
        tagged = FollowupPlan(name="标签随访", trigger="tag_added", trigger_tag="高血压", schedule="days",
                              offsets=[7], channel="phone", active=True)
        db.session.add_all([plan, tagged])
        db.session.commit()
        return tenant, ids, plan.id


def _listed(body: str, ids: dict) -> set[str]:
    return {name for name in ids if name in body}


def test_band_changed_and_missing_filters(client_for, clinic):
    tenant, ids, _plan = clinic
    client = client_for(tenant, tenant.owner_email)
    assert _listed(client.get(f"/risk?model={MODEL}").get_data(as_text=True), ids) == set(ids)
    high = client.get(f"/risk?model={MODEL}&band=high").get_data(as_text=True)
    assert _listed(high, ids) == {"高持平", "高上升"}
    assert "26.0%" in high and "高危" in high and "中危" in high  # value with unit, band and previous band in words
    assert _listed(client.get(f"/risk?model={MODEL}&changed=up").get_data(as_text=True), ids) == {"高上升"}
    assert _listed(client.get(f"/risk?model={MODEL}&changed=any").get_data(as_text=True), ids) == {"高上升", "中下降"}
    missing = client.get(f"/risk?model={MODEL}&band=missing").get_data(as_text=True)
    assert _listed(missing, ids) == {"缺胆固醇"} and "总胆固醇" in missing
    empty = client.get(f"/risk?model={MODEL}&band=low").get_data(as_text=True)
    assert _listed(empty, ids) == set() and "没有符合这些条件的患者" in empty


def test_counts_per_band(client_for, clinic):
    tenant, _ids, _plan = clinic
    body = client_for(tenant, tenant.owner_email).get(f"/risk?model={MODEL}").get_data(as_text=True)
    counts = body.split('id="risk-counts"')[1].split("</section>")[0]
    for words, n in (("低危", 0), ("中危", 1), ("高危", 2), ("未评估：缺少输入项", 1)):
        assert f"{words}</a></td><td>{n}</td>" in counts


def test_enrol_the_listed_patients_skipping_those_already_enrolled(app, client_for, clinic):
    tenant, ids, plan_id = clinic
    client = client_for(tenant, tenant.owner_email)
    form = {"model": MODEL, "band": "high", "unplanned": "1", "plan": str(plan_id)}
    listed = client.get(f"/risk?model={MODEL}&band=high&unplanned=1").get_data(as_text=True)
    assert _listed(listed, ids) == {"高持平", "高上升"} and "csrf_token" in listed
    response = client.submit("/risk/enrol", form)
    assert response.status_code == 302 and "unplanned=1" in response.headers["Location"]
    assert "已为 2 位患者加入" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context(), tenant_context(tenant.id):
        enrolled = set(db.session.scalars(select(PlanEnrolment.patient_id).where(PlanEnrolment.status == "active")))
        assert enrolled == {ids["高持平"], ids["高上升"]}
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "followup_enrolled")) == 2
    # now following a plan: the "without a plan" list is empty; enrolling the high band again skips both
    assert _listed(client.get(f"/risk?model={MODEL}&band=high&unplanned=1").get_data(as_text=True), ids) == set()
    again = client.submit("/risk/enrol", {**form, "unplanned": ""}, follow_redirects=True).get_data(as_text=True)
    assert "已为 0 位患者加入" in again and "跳过 2 位" in again


def test_enrol_needs_the_permission_and_csrf(app, client_for, make_staff, clinic):
    tenant, _ids, plan_id = clinic
    desk = make_staff(tenant, "front_desk")
    form = {"model": MODEL, "band": "high", "plan": str(plan_id)}
    desk_client = client_for(tenant, desk.email)
    assert desk_client.get(f"/risk?model={MODEL}").status_code == 200
    assert "risk-enrol" not in desk_client.get(f"/risk?model={MODEL}&band=high").get_data(as_text=True)
    assert desk_client.submit("/risk/enrol", form).status_code == 403
    with app.app_context(), tenant_context(tenant.id):
        tagged = db.session.scalar(select(FollowupPlan.id).where(FollowupPlan.trigger == "tag_added"))
    owner_page = client_for(tenant, tenant.owner_email).get(f"/risk?model={MODEL}&band=high")
    assert "心血管高危随访" in owner_page.get_data(as_text=True) and "标签随访" not in owner_page.get_data(as_text=True)
    refused = client_for(tenant, tenant.owner_email).submit("/risk/enrol", {**form, "plan": str(tagged)},
                                                            follow_redirects=True)
    assert "请选择一个启用中的随访计划" in refused.get_data(as_text=True)
    owner = client_for(tenant, tenant.owner_email)
    assert owner.post("/risk/enrol", data=form).status_code == 400  # no CSRF token
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalar(select(func.count()).select_from(PlanEnrolment)) == 0


def test_another_clinics_patients_are_never_listed_nor_enrolled(app, client_for, make_tenant, make_patient, clinic):
    tenant, ids, plan_id = clinic
    other = make_tenant("乙方诊所")
    stranger = make_patient(other, name="乙方高危")
    with app.app_context(), tenant_context(other.id):
        db.session.execute(delete(RiskAssessment))
        _assess(stranger.id, "high", value=30.0)
        db.session.commit()
    client = client_for(tenant, tenant.owner_email)
    body = client.get(f"/risk?model={MODEL}&band=high").get_data(as_text=True)
    assert "乙方高危" not in body
    counts = body.split('id="risk-counts"')[1].split("</section>")[0]
    assert "高危</a></td><td>2</td>" in counts
    client.submit("/risk/enrol", {"model": MODEL, "band": "high", "plan": str(plan_id)})
    with app.app_context(), tenant_context(other.id):
        assert db.session.scalar(select(func.count()).select_from(PlanEnrolment)) == 0


def test_in_english(client_for, clinic):
    tenant, _ids, _plan = clinic
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    body = client.get(f"/risk?model={MODEL}&band=missing").get_data(as_text=True)
    assert "Patients by risk" in body and "Not assessed: an input is missing" in body
    assert "Total cholesterol (never recorded)" in body


def test_paging(app, client_for, make_patient, clinic):
    tenant, _ids, _plan = clinic
    people = [make_patient(tenant, name=f"测试者{n:02d}") for n in range(app.config["PAGE_SIZE"] + 1)]
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(delete(RiskAssessment).where(RiskAssessment.patient_id.in_([p.id for p in people])))
        for n, person in enumerate(people):
            _assess(person.id, "low", value=1.0 + n / 100)
        db.session.commit()
    client = client_for(tenant, tenant.owner_email)
    first = client.get(f"/risk?model={MODEL}&band=low").get_data(as_text=True)
    second = client.get(f"/risk?model={MODEL}&band=low&page=2").get_data(as_text=True)
    assert first.count("测试者") == app.config["PAGE_SIZE"] and "page=2" in first
    assert second.count("测试者") == 1 and "测试者00" in second  # the highest values come first
