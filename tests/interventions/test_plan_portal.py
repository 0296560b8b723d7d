"""The patient's plan in the portal: today's actions ticked (one row per action
and day), home measurements stored as patient-reported results ("135/85" in one
box accepted), bad input shown by its field with the typing kept, another
patient's plan out of reach, and staff seeing the reading on the progress page."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.interventions import plan_progress
from app.interventions.plan_models import CareAdherence, CarePlan
from app.records.models import Indicator, Observation
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today
from tests.interventions.helpers import MOBILE, start_form, store

pytestmark = [pytest.mark.time_sensitive, pytest.mark.redis]


@pytest.fixture
def started(app, make_tenant, make_staff, make_patient, client_for):
    tenant = make_tenant("康宁健康管理中心")
    manager = make_staff(tenant, "health_manager")
    patient = make_patient(tenant, name="王晓燕", mobile=MOBILE)
    store(app, tenant, patient.id, "8480-6", 150, "mm[Hg]")
    staff = client_for(tenant, manager.email)
    response = staff.post(f"/patients/{patient.id}/plans/new/hypertension",
                          data=start_form(manager.id, today=clinic_today(), csrf_token=staff.csrf()))
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    with app.app_context(), tenant_context(tenant.id):
        plan_id = db.session.scalar(select(CarePlan.id))
    return tenant, patient, staff, plan_id


def _readings(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.execute(select(Indicator.code, Observation.value, Observation.origin)
                                  .join(Indicator, Indicator.id == Observation.indicator_id)
                                  .where(Observation.origin == "patient")).all()


def test_a_home_reading_typed_in_one_box_is_stored_as_patient_reported(app, started, patient_client):
    tenant, patient, staff, plan_id = started
    client = patient_client(tenant, MOBILE)
    page = client.get("/portal/plans")
    assert page.status_code == 200 and "高血压健康干预" in page.get_data(as_text=True)
    response = client.post("/portal/plans/reading", data={"csrf_token": client.token, "systolic": "135/85"})
    assert response.status_code == 302
    assert sorted((code, value) for code, value, _origin in _readings(app, tenant)) == [
        ("8462-4", 85.0), ("8480-6", 135.0)]
    detail = staff.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "135" in detail and "自测" in detail  # on the progress chart's values, marked patient-reported
    results = client.get("/portal/results").get_data(as_text=True)
    assert "自测" in results


@pytest.mark.parametrize("form, field, kept", [
    ({"systolic": "abc", "diastolic": "80"}, "systolic", "abc"),
    ({"systolic": "400", "diastolic": "80"}, "systolic", "400"),
    ({"systolic": "120", "diastolic": "130"}, "diastolic", "130"),
    ({"systolic": "120"}, "diastolic", "120"),
    ({"weight": "-3"}, "weight", "-3"),
    ({"glucose": "nan"}, "glucose", "nan"),
    ({}, "systolic", ""),
])
def test_bad_readings_are_refused_by_their_field(app, started, patient_client, form, field, kept):
    tenant, _patient, _staff, _plan_id = started
    client = patient_client(tenant, MOBILE)
    response = client.post("/portal/plans/reading", data=dict(form, csrf_token=client.token))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in body and f'value="{kept}"' in body
    assert _readings(app, tenant) == []


def test_ticks_are_one_per_action_and_day_and_count_as_adherence(app, started, patient_client):
    tenant, _patient, staff, plan_id = started
    client = patient_client(tenant, MOBILE)
    for done in ("1", "1", "0", "1"):
        assert client.post(f"/portal/plans/{plan_id}/tick",
                           data={"csrf_token": client.token, "action": "walk", "done": done}).status_code == 302
    assert client.post(f"/portal/plans/{plan_id}/tick",
                       data={"csrf_token": client.token, "action": "nothing", "done": "1"}).status_code == 404
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(CareAdherence)).all()
        assert [(r.action_key, r.done) for r in rows] == [("walk", True)]
        assert rows[0].day in (clinic_today(), clinic_today() - timedelta(days=1))  # the clock moves on
        plan = db.session.scalar(select(CarePlan))
        walk = next(a for a in plan_progress.adherence(plan, "zh_CN") if a.action["key"] == "walk")
        assert walk.done == 1
        minutes = plan_progress.weekly_minutes(plan, plan_progress.ticks(plan), rows[0].day)
        assert sum(week.value for week in minutes) == 30
    assert "✓" in client.get("/portal/plans").get_data(as_text=True)


def test_another_patients_plan_is_out_of_reach(app, started, make_patient, patient_client):
    tenant, _patient, _staff, plan_id = started
    other = "13922223333"
    make_patient(tenant, name="李四", mobile=other)
    client = patient_client(tenant, other)
    assert "高血压健康干预" not in client.get("/portal/plans").get_data(as_text=True)
    response = client.post(f"/portal/plans/{plan_id}/tick", data={"csrf_token": client.token, "action": "walk",
                                                                 "done": "1"})
    assert response.status_code == 404
