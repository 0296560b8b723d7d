"""Clinic-wide enrolment: a rule run over the whole clinic starts and stops
plans in a number of statements that does not grow with the patients, and
spreads the new tasks evenly over the health managers."""
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.followups import plans
from app.followups.models import FollowupTask, PlanEnrolment
from app.tagging import services as tagging
from tenants.context import tenant_context
from tenants.db import db
from tests.querycount import counting

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]
PLAN = "血压偏高随访"  # the pack's plan for 血压偏高: days 7, 30, 90


def _give_bp(patient_ids, systolic: str):
    from app.patients import services as patients
    from app.records import services as records

    indicator = records.indicator_by_code("8480-6")
    for patient_id in patient_ids:
        at = datetime.now(timezone.utc).replace(microsecond=0)
        records.store_many(patients.get(patient_id), [records.Value(indicator, systolic, "mm[Hg]", at)])
    db.session.commit()


def _clinic(app, make_tenant, make_staff, make_patient, size):
    tenant = make_tenant()
    busy, free = make_staff(tenant, "health_manager"), make_staff(tenant, "health_manager")
    own = make_patient(tenant, health_manager_id=busy.id)
    others = [make_patient(tenant).id for _ in range(size)]
    with app.app_context(), tenant_context(tenant.id):
        db.session.add_all(FollowupTask(patient_id=own.id, assignee_id=busy.id, due_date=plans.today())
                           for _ in range(4))  # busy starts with four open tasks
        db.session.commit()
        _give_bp([own.id, *others], "152")
    return tenant, busy, free, own.id, others


def _evaluate_all():
    with counting() as statements:
        tagging.evaluate_rules(None)
        db.session.commit()
    return len(statements)


def test_clinic_wide_enrolment_is_set_based_and_spreads_the_work(app, make_tenant, make_staff, make_patient):
    small = _clinic(app, make_tenant, make_staff, make_patient, 4)
    large = _clinic(app, make_tenant, make_staff, make_patient, 40)
    counts = []
    for tenant, *_rest in (small, large):
        with app.app_context(), tenant_context(tenant.id):
            counts.append(_evaluate_all())
    assert counts[0] == counts[1], "statements grew with the number of patients"

    tenant, busy, free, own_id, others = large
    with app.app_context(), tenant_context(tenant.id):
        plan_id = next(p.id for p in plans.list_plans() if p.name == PLAN)
        enrolled = Counter(db.session.scalars(select(PlanEnrolment.patient_id).where(
            PlanEnrolment.plan_id == plan_id, PlanEnrolment.status == "active")))
        assert enrolled == Counter([own_id, *others])
        tasks = list(db.session.scalars(select(FollowupTask).where(FollowupTask.plan_id == plan_id)))
        assert len(tasks) == 3 * 41
        assert {t.assignee_id for t in tasks if t.patient_id == own_id} == {busy.id}
        load = Counter(t.assignee_id for t in db.session.scalars(select(FollowupTask).where(
            FollowupTask.status == "pending")))
        assert abs(load[busy.id] - load[free.id]) <= 3, load

        _give_bp(others[:10], "118")  # ten patients no longer meet the rule
        _evaluate_all()
        stopped = list(db.session.scalars(select(FollowupTask).where(FollowupTask.patient_id.in_(others[:10]))))
        assert len(stopped) == 30 and {t.status for t in stopped} == {"cancelled"}
        assert all("血压偏高" in t.cancel_reason and t.version == 2 for t in stopped)
        ended = list(db.session.scalars(select(PlanEnrolment).where(PlanEnrolment.patient_id.in_(others[:10]))))
        assert {e.status for e in ended} == {"cancelled"} and all(e.ended_at for e in ended)
        still = db.session.scalar(select(db.func.count()).select_from(FollowupTask).where(
            FollowupTask.plan_id == plan_id, FollowupTask.status == "pending"))
        assert still == 3 * 31

        _evaluate_all()  # nothing changed: nothing new, nothing cancelled again
        assert db.session.scalar(select(db.func.count()).select_from(FollowupTask).where(
            FollowupTask.plan_id == plan_id)) == 3 * 41


def test_archived_patients_and_repeats_are_skipped(app, make_tenant, make_patient):
    from app.followups import enrolment

    tenant = make_tenant()
    kept, archived = make_patient(tenant).id, make_patient(tenant).id
    with app.app_context(), tenant_context(tenant.id):
        from app.patients.models import Patient

        db.session.get(Patient, (tenant.id, archived)).archived_at = datetime.now(timezone.utc)
        plan = next(p for p in plans.list_plans() if p.name == PLAN)
        first = enrolment.enrol_many(plan, {kept: "test", archived: "test"})
        again = enrolment.enrol_many(plan, {kept: "test"})
        db.session.commit()
        assert list(first) == [kept] and again == {}
        assert db.session.scalar(select(db.func.count()).select_from(FollowupTask).where(
            FollowupTask.patient_id == kept)) == 3


def test_patients_enrolled_one_at_a_time_take_turns(app, make_tenant, make_staff, make_patient):
    from app.followups import triggers

    tenant = make_tenant()
    managers = {make_staff(tenant, "health_manager").id, make_staff(tenant, "health_manager").id}
    patients = [make_patient(tenant).id for _ in range(4)]
    with app.app_context(), tenant_context(tenant.id):
        plan = next(p for p in plans.list_plans() if p.name == PLAN)
        for patient_id in patients:  # each in its own transaction, as the per-patient job does
            triggers.enrol(plan, patient_id, started_by="test")
            db.session.commit()
        load = Counter(db.session.scalars(select(FollowupTask.assignee_id)))
    assert set(load) == managers and list(load.values()) == [6, 6]


def test_a_rolled_back_batch_leaves_no_phantom_load(app, make_tenant, make_staff, make_patient):
    from app.followups import enrolment, triggers

    tenant = make_tenant()
    first, second = make_staff(tenant, "health_manager").id, make_staff(tenant, "health_manager").id
    undone, kept = make_patient(tenant).id, make_patient(tenant).id
    with app.app_context(), tenant_context(tenant.id):
        plan = next(p for p in plans.list_plans() if p.name == PLAN)
        enrolment.enrol_many(plan, {undone: "test"})  # three tasks to the first manager, then rolled back
        db.session.rollback()
        triggers.enrol(plan, kept, started_by="test")  # both are free again: the first one gets it
        db.session.commit()
        load = Counter(db.session.scalars(select(FollowupTask.assignee_id)))
    assert load == Counter({first: 3}) and second not in load


def test_bulk_insert_refuses_what_an_insert_would(app, make_tenant, make_patient):
    from sqlalchemy.exc import DataError

    from app.core.bulk import insert_rows
    from app.followups.models import PlanEnrolment
    from tenants.ids import new_id

    tenant = make_tenant()
    patient_id = make_patient(tenant).id
    with app.app_context(), tenant_context(tenant.id):
        plan = next(p for p in plans.list_plans() if p.name == PLAN)
        row = {"tenant_id": tenant.id, "id": new_id(), "plan_id": plan.id, "patient_id": patient_id,
               "status": "active", "started_by": "x" * 201, "reason": "", "started_at": datetime.now(timezone.utc)}
        with pytest.raises(DataError):  # too long for VARCHAR(200): refused, not cut short
            insert_rows(PlanEnrolment.__table__, [row, dict(row, id=new_id(), patient_id=patient_id + 1)])
        db.session.rollback()
        with pytest.raises(ValueError, match="no column nonsense"):
            insert_rows(PlanEnrolment.__table__, [row], returning=("nonsense",))


def test_cancelled_tasks_free_their_manager_at_once(app, make_tenant, make_staff, make_patient):
    from app.followups import enrolment, triggers

    tenant = make_tenant()
    first, second = make_staff(tenant, "health_manager").id, make_staff(tenant, "health_manager").id
    gone, new = make_patient(tenant).id, make_patient(tenant).id
    with app.app_context(), tenant_context(tenant.id):
        plan = next(p for p in plans.list_plans() if p.name == PLAN)
        started = triggers.enrol(plan, gone, started_by="test")
        db.session.commit()
        assert enrolment.cancel_many([started.id], "test") == 3
        db.session.commit()
        triggers.enrol(plan, new, started_by="test")  # the first manager has nothing open again
        db.session.commit()
        assignees = set(db.session.scalars(select(FollowupTask.assignee_id).where(FollowupTask.patient_id == new)))
    assert assignees == {first} and second != first


def test_two_triggers_at_once_enrol_a_patient_once(app, make_tenant, make_staff, make_patient):
    """Two transactions start the same plan for the same patient at the same
    moment: the second waits on the unique index, then adds nothing."""
    import threading

    from app.followups import enrolment

    tenant = make_tenant()
    make_staff(tenant, "health_manager")
    patient_id = make_patient(tenant).id
    barrier, results, errors = threading.Barrier(2), [], []

    def trigger():
        try:
            with app.app_context(), tenant_context(tenant.id):
                plan = next(p for p in plans.list_plans() if p.name == PLAN)
                barrier.wait()
                results.append(enrolment.enrol_many(plan, {patient_id: "test"}))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=trigger) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and sorted(len(r) for r in results) == [0, 1]
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalar(select(db.func.count()).select_from(PlanEnrolment).where(
            PlanEnrolment.patient_id == patient_id)) == 1
        assert db.session.scalar(select(db.func.count()).select_from(FollowupTask).where(
            FollowupTask.patient_id == patient_id)) == 3
