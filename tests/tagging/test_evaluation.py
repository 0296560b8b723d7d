"""Tags follow the data: per-patient jobs after a change, clinic-wide runs
when a rule changes, automatic tags that go, manual tags that stay."""
import random
import re
from datetime import date

import pytest
from rq import SimpleWorker
from sqlalchemy import delete, func, select

from app.core import jobs
from app.patients.models import Patient
from app.tagging.models import ManualTag, PatientTag
from tenants.context import tenant_context
from tenants.db import db
from tests.tagging.conftest import group, leaf, only

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]
SBP, DBP, GLUCOSE = "8480-6", "8462-4", "14771-0"


def _drain(app):
    with app.app_context():
        queue = jobs.queue("default")
        SimpleWorker([queue], connection=jobs.redis_connection()).work(burst=True)
        failed = queue.failed_job_registry
        for job_id in failed.get_job_ids():
            job = queue.fetch_job(job_id)
            failed.remove(job_id)
            raise AssertionError(f"job {job_id} crashed:\n{job.latest_result().exc_string}")


def _queued_for(app, patient_id):
    with app.app_context():
        queue = jobs.queue("default")
        return [j for j in queue.get_jobs() if j.func_name.endswith("evaluate_patient_job") and j.args[1] == patient_id]


def test_auto_tag_goes_when_condition_stops_manual_tag_stays(app, make_tenant, make_patient, give, evaluate,
                                                             tagged, client_for):
    t = make_tenant()
    p = make_patient(t).id
    give(t, p, SBP, 150, days_ago=30)
    give(t, p, DBP, 85, days_ago=30)
    changes = evaluate(t, p)
    assert "血压达高血压水平" in tagged(t, p) and changes.added
    client = client_for(t, t.owner_email)
    response = client.submit(f"/patients/{p}/tags", {"name": "重点关注"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "重点关注" in response.get_data(as_text=True)

    page = _shown(client.get(f"/patients/{p}").get_data(as_text=True))
    assert "血压偏高" in page and "血压达高血压水平" in page and "150" in page  # the tag, its rule, the value

    give(t, p, SBP, 125)  # a newer, normal reading
    give(t, p, DBP, 78)
    changes = evaluate(t, p)
    assert "血压达高血压水平" not in tagged(t, p) and changes.removed
    assert "血压正常高值" in tagged(t, p)  # 125/78 is high-normal
    with app.app_context(), tenant_context(t.id):
        from app.tagging import services

        services.evaluate_rules(None)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ManualTag).where(ManualTag.patient_id == p)) == 1
    page = _shown(client.get(f"/patients/{p}").get_data(as_text=True))
    assert "重点关注" in page and "血压偏高" not in page

    removed = client.submit(f"/patients/{p}/tags/{_tag_id(app, t, '重点关注')}/remove",
                            headers={"HX-Request": "true"})
    assert removed.status_code == 200 and "重点关注" not in _shown(removed.get_data(as_text=True))


def _shown(page: str) -> str:
    """The patient's tags as shown (not the names offered for adding one)."""
    return page.split('id="patient-tags"', 1)[1].split("all-tag-names", 1)[0]


def _tag_id(app, tenant, name):
    from app.tagging.models import Tag

    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Tag.id).where(Tag.name == name))


@pytest.mark.redis
def test_history_edit_queues_the_patient_after_commit(app, make_tenant, make_patient, make_rule, client_for,
                                                      tagged):
    t = make_tenant()
    p = make_patient(t).id
    make_rule(t, only({"source": "history", "kind": "illness", "text": "糖尿病"}), name="糖尿病史", tag="糖尿病史")
    _drain(app)
    client = client_for(t, t.owner_email)
    response = client.submit(f"/patients/{p}/history", {"kind": "illness", "description": "2型糖尿病"},
                             headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert _queued_for(app, p), "no evaluation queued after the history edit"
    _drain(app)
    assert "糖尿病史" in tagged(t, p)
    item_id = re.search(rf"/patients/{p}/history/(\d+)/delete", response.get_data(as_text=True)).group(1)
    client.submit(f"/patients/{p}/history/{item_id}/delete", headers={"HX-Request": "true"})
    _drain(app)
    assert "糖尿病史" not in tagged(t, p)


@pytest.mark.redis
def test_nothing_queued_when_the_change_rolls_back(app, make_tenant, make_patient):
    from app.patients import services as patients

    t = make_tenant()
    p = make_patient(t).id
    _drain(app)
    with app.app_context(), tenant_context(t.id):
        patient = db.session.get(Patient, (t.id, p))
        patients.add_history(patient, kind="illness", description="痛风", since_year=None)
        db.session.rollback()
    assert not _queued_for(app, p)
    with app.app_context(), tenant_context(t.id):
        from app.tagging import services

        with db.session.begin_nested():  # a savepoint's rollback keeps the outer transaction's work
            services.evaluate_patient_later(p)
        try:
            with db.session.begin_nested():
                raise ValueError
        except ValueError:
            pass
        db.session.commit()
    assert _queued_for(app, p)


@pytest.mark.redis
def test_saving_a_rule_reevaluates_the_clinic_in_a_job(app, make_tenant, make_patient, give, client_for, tagged):
    t = make_tenant()
    high, low = make_patient(t).id, make_patient(t).id
    give(t, high, GLUCOSE, 9.0)
    give(t, low, GLUCOSE, 5.0)
    _drain(app)
    client = client_for(t, t.owner_email)
    form = {"name": "血糖很高", "tag": "高血糖", "op": "and", "active": "y", "g0-op": "and",
            "g0-c0-source": "indicator", "g0-c0-code": GLUCOSE, "g0-c0-measure": "latest", "g0-c0-cmp": ">=",
            "g0-c0-value": "8.0", "g0-c0-unit": "mmol/L", "action": "save"}
    response = client.submit("/tagging/rules/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert "血糖很高" not in tagged(t, high)
    _drain(app)
    assert "血糖很高" in tagged(t, high) and "血糖很高" not in tagged(t, low)
    rules_page = client.get("/tagging/rules").get_data(as_text=True)
    assert "血糖很高" in rules_page
    # changing the threshold takes the tag off
    from app.tagging.models import TagRule

    with app.app_context(), tenant_context(t.id):
        rule_id = db.session.scalar(select(TagRule.id).where(TagRule.name == "血糖很高"))
    response = client.submit(f"/tagging/rules/{rule_id}", dict(form, **{"g0-c0-value": "10"}))
    assert response.status_code == 302
    _drain(app)
    assert "血糖很高" not in tagged(t, high)


def test_set_based_and_per_patient_agree_on_a_random_clinic(app, make_tenant, make_patient, give, make_rule,
                                                            holds):
    rng = random.Random(20260101)
    t = make_tenant()
    make_rule(t, only(leaf(SBP, ">=", 140, measure="persist", count=2)), name="persist")
    make_rule(t, only(leaf(GLUCOSE, ">=", 0.5, measure="change")), name="change")
    make_rule(t, group("or", group("and", {"source": "age", "cmp": ">=", "value": 50}, leaf(SBP, ">=", 130)),
                       group("and", {"source": "sex", "choice": "F"}, leaf(GLUCOSE, "<", 5.5, days=200))),
              name="mixed")
    patients = []
    for _ in range(30):
        born = date(rng.randrange(1940, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
        p = make_patient(t, sex=rng.choice("MF"), birth_date=born).id
        patients.append(p)
        for days in rng.sample((400, 300, 150, 20), rng.randrange(0, 4)):
            give(t, p, SBP, rng.randrange(100, 180), days_ago=days)
            give(t, p, DBP, rng.randrange(60, 110), days_ago=days)
            if rng.random() < 0.8:
                give(t, p, GLUCOSE, round(rng.uniform(4.0, 9.0), 1), days_ago=days)
            if rng.random() < 0.5:
                give(t, p, "39156-5", round(rng.uniform(18, 33), 1), days_ago=days)
    by_rule = holds(t, None, patients)  # asserts equality of rows and evidence, rule by rule
    assert sum(len(v) for v in by_rule.values()) > 10


def test_inactive_or_deleted_rule_loses_its_tags(app, make_tenant, make_patient, give, make_rule, evaluate, tagged):
    from app.tagging import rules, services

    t = make_tenant()
    p = make_patient(t).id
    give(t, p, GLUCOSE, 8.0)
    rule_id = make_rule(t, only(leaf(GLUCOSE, ">=", 7.5)), name="高")
    evaluate(t, p)
    assert "高" in tagged(t, p)
    with app.app_context(), tenant_context(t.id):
        rule = rules.get(rule_id)
        draft = rules.RuleDraft("高", "测试标签", rule.condition, active=False)
        rules.save(draft, rules.check(draft), rule)
        services.evaluate_rules([rule_id])
        db.session.commit()
    assert "高" not in tagged(t, p)
    with app.app_context(), tenant_context(t.id):
        rule = rules.get(rule_id)
        rule.active = True
        services.evaluate_rules([rule_id])
        db.session.commit()
        assert "高" in tagged(t, p)
        rules.remove(rules.get(rule_id))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(PatientTag).where(PatientTag.rule_id == rule_id)) == 0


def test_cli_evaluates_a_clinic(app, make_tenant, make_patient, give, tagged):
    t = make_tenant()
    p = make_patient(t).id
    give(t, p, "14933-6", 500)
    with app.app_context(), tenant_context(t.id):
        db.session.execute(delete(PatientTag))
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tagging", "evaluate", "--tenant", t.slug])
    assert result.exit_code == 0, result.output
    assert "高尿酸血症: 1 patients" in result.output and "evaluated 10 rules" in result.output
    assert "高尿酸血症" in tagged(t, p)
    assert runner.invoke(args=["tagging", "evaluate", "--tenant", "nope-none"]).exit_code != 0
    assert runner.invoke(args=["tagging", "evaluate", "--tenant", t.slug, "--rule", "12345"]).exit_code != 0
    result = runner.invoke(args=["tagging", "install-pack", "--tenant", t.slug])
    assert result.exit_code == 0 and "added 0 rules" in result.output


def test_cli_daily_run_evaluates_every_active_clinic(app, make_tenant, make_patient, give, tagged, monkeypatch):
    import tenants.services

    clinics = [make_tenant(), make_tenant(), make_tenant()]
    patients = [make_patient(t).id for t in clinics]
    for t, p in zip(clinics, patients):
        give(t, p, "14933-6", 500)
        with app.app_context(), tenant_context(t.id):
            db.session.execute(delete(PatientTag))
            db.session.commit()
    with app.app_context():  # the last clinic is suspended; the suite's other clinics are left out
        from tenants.models import Tenant

        tenants.services.set_active(clinics[-1].slug, False)  # as the owner: the app role only reads clinics
        monkeypatch.setattr(tenants.services, "list_tenants", lambda: [db.session.get(Tenant, t.id) for t in clinics])
        runner = app.test_cli_runner()
        result = runner.invoke(args=["tagging", "evaluate", "--all"])
        assert result.exit_code == 0, result.output
        assert f"{clinics[0].slug}: " in result.output and f"{clinics[2].slug}: " not in result.output
    assert all("高尿酸血症" in tagged(t, p) for t, p in zip(clinics[:2], patients))
    assert tagged(clinics[2], patients[2]) == {}
    assert runner.invoke(args=["tagging", "evaluate"]).exit_code != 0
    assert runner.invoke(args=["tagging", "evaluate", "--all", "--tenant", clinics[0].slug]).exit_code != 0


@pytest.mark.redis
def test_an_imported_report_retags_its_patient_in_a_job(app, make_tenant, make_patient, tagged):
    from app.records import importer

    t = make_tenant()
    patient = make_patient(t)
    _drain(app)
    message = "\r".join([
        "MSH|^~\\&|LIS|LAB|CARELOOP|DEMO|20240506093000||ORU^R01|RETAG1|P|2.5.1",
        f"PID|1||{patient.card_no}||张明华||19700101|M",
        "OBR|1||A1|LAB^生化|||20240506083000",
        f"OBX|1|NM|{GLUCOSE}^空腹血糖^LN||7.4|mmol/L|3.9-6.1|H|||F|||20240506083000"]) + "\r"
    with app.app_context(), tenant_context(t.id):
        summary = importer.import_file(message.encode(), "r.hl7")
        db.session.commit()
    assert summary.imported == 1 and _queued_for(app, patient.id)
    _drain(app)
    assert "血糖达糖尿病水平" in tagged(t, patient.id)
    with app.app_context(), tenant_context(t.id):  # the same message again stores nothing and queues nothing
        importer.import_file(message.encode(), "r.hl7")
        db.session.commit()
    assert not _queued_for(app, patient.id)
