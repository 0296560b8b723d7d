"""A TCM conditioning plan from a hand-built constitution result: main and
tendency types per ZYYXH/T157-2009, the pack's advice for each, started and
followed like an intervention plan."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.interventions import plan_tcm
from app.interventions.plan_models import CarePlan
from app.patients import services as patients
from app.questionnaires import library
from app.records import services as records
from tenants import packs
from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.time_sensitive


@pytest.mark.parametrize("scores, main, tendency", [
    ({"balanced": 70, "qi_deficiency": 20, "damp_heat": 10}, ["balanced"], []),
    ({"balanced": 65, "qi_deficiency": 35}, ["balanced"], ["qi_deficiency"]),  # basically balanced
    ({"balanced": 40, "qi_deficiency": 45, "yang_deficiency": 52, "damp_heat": 31},
     ["yang_deficiency", "qi_deficiency"], ["damp_heat"]),
    ({"balanced": 62, "blood_stasis": 40}, ["blood_stasis"], []),  # a biased yes: not balanced
    ({"balanced": 50, "qi_stagnation": 39.9}, [], ["qi_stagnation"]),
])
def test_main_and_tendency_constitutions(scores, main, tendency):
    assert plan_tcm.classify(scores) == (main, tendency)


def _store_scores(app, tenant, patient_id, scores):
    specs = {s["key"]: s["observation"] for s in
             json.loads((packs.PACKS / "questionnaires" / "tcm_constitution.json").read_text("utf-8"))["scores"]}
    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(patient_id)
        when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
        values = [records.Value(library.score_indicator(specs[key]), str(value), "{score}", when)
                  for key, value in scores.items()]
        records.store_many(patient, values, origin="response")
        db.session.commit()


def test_a_conditioning_plan_from_the_latest_result(app, make_tenant, make_staff, make_patient, client_for):
    tenant = make_tenant()
    manager = make_staff(tenant, "health_manager")
    patient = make_patient(tenant, name="赵六")
    client = client_for(tenant, manager.email)
    assert client.get(f"/patients/{patient.id}/plans/conditioning").status_code == 302  # no result yet
    _store_scores(app, tenant, patient.id, {"balanced": 40, "qi_deficiency": 45, "damp_heat": 33,
                                            "yang_deficiency": 10})
    section = client.get(f"/patients/{patient.id}/plans").get_data(as_text=True)
    assert "/plans/conditioning" in section
    page = client.get(f"/patients/{patient.id}/plans/conditioning").get_data(as_text=True)
    assert "气虚质" in page and "湿热质" in page and "八段锦" in page and "ZYYXH/T157-2009" in page
    form = {"csrf_token": client.csrf(), "title": "中医体质调养（气虚质）", "responsible": str(manager.id)}
    for heading in ("diet", "exercise", "routine", "emotions", "seasonal"):
        for key in ("qi_deficiency", "damp_heat"):
            form[f"action-{key}-{heading}-on"] = "1"
            form[f"action-{key}-{heading}-per_week"] = "5" if heading == "exercise" else "7"
    response = client.post(f"/patients/{patient.id}/plans/conditioning", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    with app.app_context(), tenant_context(tenant.id):
        plan = db.session.scalar(select(CarePlan))
        assert plan.kind == "conditioning" and plan.basis["main"] == ["qi_deficiency"]
        assert plan.basis["tendency"] == ["damp_heat"]
        assert {a["constitution"] for a in plan.actions} == {"qi_deficiency", "damp_heat"}
        assert plan.scheduled["tasks"]
    assert "气虚质" in client.get(f"/plans/{plan.id}").get_data(as_text=True)
