"""Follow-up plans, tasks, records and recordings on real PostgreSQL (RLS on)."""
import io
import struct
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.core.audit import AuditEvent
from app.followups import plans, services, triggers
from app.followups.models import FollowupTask, PlanEnrolment
from app.notifications.models import Notification
from app.records.models import Observation
from app.tagging import services as tagging
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]
BP_TAG = "血压偏高"  # the pack's plan: days 7, 30, 90 by phone


def _tasks(patient_id):
    return list(db.session.scalars(select(FollowupTask).where(FollowupTask.patient_id == patient_id)
                                   .order_by(FollowupTask.due_date)))


def _version(client, task_id):
    import re

    page = client.get(f"/followups/tasks/{task_id}").get_data(as_text=True)
    return int(re.search(r'name="version" value="(\d+)"', page).group(1))


def _wav(seconds=2, rate=8000):
    frames = b"\x00\x00" * rate * seconds
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(frames)) + frames
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.fixture
def clinic(app, make_tenant, make_staff, make_patient):
    tenant = make_tenant()
    busy = make_staff(tenant, "health_manager")
    free = make_staff(tenant, "health_manager")
    patient = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):  # busy has one open task already
        db.session.add(FollowupTask(patient_id=patient.id, assignee_id=busy.id, due_date=plans.today()))
        db.session.commit()
    return tenant, busy, free, patient


def test_tag_added_creates_tasks_then_tag_lost_cancels_them(app, clinic):
    tenant, busy, free, patient = clinic
    with app.app_context(), tenant_context(tenant.id):
        tagging.add_manual(patient.id, BP_TAG)
        tagging.add_manual(patient.id, BP_TAG)  # idempotent
        db.session.commit()
        tasks = [t for t in _tasks(patient.id) if t.plan_id]
        today = plans.today()
        assert [t.due_date for t in tasks] == [today + timedelta(days=d) for d in (7, 30, 90)]
        assert {t.assignee_id for t in tasks} == {free.id}  # no health manager: the least busy one
        assert {t.channel for t in tasks} == {"phone"}
        triggers.tags_changed(patient_ids=[patient.id])  # re-running the trigger adds nothing
        assert len([t for t in _tasks(patient.id) if t.plan_id]) == 3

        tag = next(t for t in tagging.all_tags() if t.name == BP_TAG)
        tagging.remove_manual(patient.id, tag.id)
        db.session.commit()
        tasks = [t for t in _tasks(patient.id) if t.plan_id]
        assert {t.status for t in tasks} == {"cancelled"}
        assert all(BP_TAG in t.cancel_reason for t in tasks)
        enrolment = db.session.scalar(select(PlanEnrolment).where(PlanEnrolment.patient_id == patient.id))
        assert enrolment.status == "cancelled" and BP_TAG in enrolment.reason


def test_rule_tag_triggers_plan_with_the_patients_health_manager(app, make_tenant, make_staff, make_patient):
    from datetime import datetime, timezone

    from app.records import services as records

    tenant = make_tenant()
    manager = make_staff(tenant, "health_manager")
    make_staff(tenant, "health_manager")
    patient = make_patient(tenant, health_manager_id=manager.id)
    with app.app_context(), tenant_context(tenant.id):
        from app.patients import services as patients

        p = patients.get(patient.id)
        glucose = records.indicator_by_code("14771-0")
        records.store(p, records.Value(glucose, "8.1", "mmol/L", datetime.now(timezone.utc)))
        tagging.evaluate_patient(patient.id)
        db.session.commit()
        tasks = _tasks(patient.id)  # 血糖达糖尿病水平: every 30 days for 6 months
        assert len(tasks) == 6 and {t.assignee_id for t in tasks} == {manager.id}
        assert tasks[0].due_date == plans.today() + timedelta(days=30)


def test_plan_validation_errors_by_field(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    response = client.submit("/followups/plans/new", {"name": "", "trigger": "tag_added", "trigger_tag": "",
                                                      "schedule": "days", "offsets": "7, x", "channel": "phone",
                                                      "max_attempts": "0"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for field in ("name-error", "trigger_tag-error", "offsets-error", "max_attempts-error"):
        assert field in body
    response = client.submit("/followups/plans/new", {"name": "Quarterly", "trigger": "enrolment",
                                                      "schedule": "interval",
                                                      "interval_days": "90", "duration_months": "12",
                                                      "channel": "visit", "max_attempts": "2", "active": "y"})
    assert response.status_code == 302
    assert "Quarterly" in client.get("/followups/plans").get_data(as_text=True)
    with app.app_context(), tenant_context(tenant.id):
        plan = next(p for p in plans.list_plans() if p.name == "Quarterly")
        assert len(plans.due_dates(plan, plans.today())) == 4


def test_workbench_record_measures_escalation_and_conflict(app, clinic, client_for):
    tenant, busy, free, patient = clinic
    with app.app_context(), tenant_context(tenant.id):
        tagging.add_manual(patient.id, BP_TAG)
        db.session.commit()
        first = [t for t in _tasks(patient.id) if t.plan_id][0]
        first.due_date = plans.today() - timedelta(days=1)  # overdue
        db.session.commit()
        task_id, version = first.id, first.version
    client = client_for(tenant, free.email)
    page = client.get("/followups").get_data(as_text=True)
    assert f"/followups/tasks/{task_id}" in page.split('id="overdue"')[1].split('id="today"')[0]

    for _attempt in range(3):  # three failed attempts escalate (the plan's N)
        version = _version(client, task_id)
        response = client.submit(f"/followups/tasks/{task_id}", {"result": "no_answer", "version": version})
        assert response.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        task = services.get_task(task_id)
        assert task.failed_attempts == 3 and task.escalated_at is not None and task.status == "pending"
        told = list(db.session.scalars(select(Notification).where(Notification.template_key == "followup_escalated")))
        assert [(n.recipient_id, n.channel) for n in told] == [(task.escalated_to, "inapp")]  # owner@*.test: no email
        assert patient.card_no in told[0].subject and "3" in told[0].body_text
    owner = client_for(tenant, tenant.owner_email)
    overview = owner.get("/followups/overview").get_data(as_text=True)
    assert f"/followups/tasks/{task_id}" in overview.split('id="escalated"')[1]

    stale = client.submit(f"/followups/tasks/{task_id}", {"result": "reached", "version": version})
    assert stale.status_code == 409 and 'role="alert"' in stale.get_data(as_text=True)
    version = _version(client, task_id)

    bad = client.submit(f"/followups/tasks/{task_id}", {"result": "reached", "version": version, "systolic": "400"})
    assert bad.status_code == 422 and "systolic-error" in bad.get_data(as_text=True)
    next_day = (clinic_today() + timedelta(days=10)).isoformat()
    done = client.submit(f"/followups/tasks/{task_id}", {
        "result": "reached", "version": version, "systolic": "150", "diastolic": "95", "weight": "72.5",
        "glucose": "6.2", "notes": "服药规律", "next_date": next_day})
    assert done.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        assert services.get_task(task_id).status == "done"
        values = {o.indicator_id: o for o in db.session.scalars(select(Observation).where(
            Observation.patient_id == patient.id))}
        assert len(values) == 4
        assert any(t.due_date.isoformat() == next_day and t.status == "pending" for t in _tasks(patient.id))


def test_concurrent_save_one_wins(app, clinic):
    """Two sessions load the same task; the second UPDATE finds the version moved."""
    from sqlalchemy.orm import Session

    tenant, busy, free, patient = clinic
    with app.app_context(), tenant_context(tenant.id):
        task = [t for t in _tasks(patient.id)][0]
        task_id, seen = task.id, task.version
        with Session(db.engine) as other:  # someone else saves first
            other.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
            other.execute(text("UPDATE followup_tasks SET version = version + 1 WHERE tenant_id = :t AND id = :i"),
                          {"t": tenant.id, "i": task_id})
            other.commit()
        with pytest.raises(services.TaskChanged):
            services.record_contact(task, services.ContactData(result="reached", version=str(seen)), actor_id=None)
        db.session.rollback()


def test_recordings_by_content_audited_and_private(app, clinic, client_for, make_tenant):
    tenant, busy, free, patient = clinic
    with app.app_context(), tenant_context(tenant.id):
        task = _tasks(patient.id)[0]
        task_id, version = task.id, task.version
    client = client_for(tenant, busy.email)
    refused = client.submit(f"/followups/tasks/{task_id}", {
        "result": "reached", "version": version, "recording": (io.BytesIO(b"not audio at all" * 10), "call.mp3")},
        content_type="multipart/form-data")
    assert refused.status_code == 422 and "recording-error" in refused.get_data(as_text=True)
    ok = client.submit(f"/followups/tasks/{task_id}", {
        "result": "reached", "version": version, "recording": (io.BytesIO(_wav(3)), "x.bin")},
        content_type="multipart/form-data")
    assert ok.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        from app.followups.models import CallRecording

        rec = db.session.scalar(select(CallRecording))
        assert rec.original_format == "wav" and abs(rec.duration_seconds - 3) < 0.01
        assert rec.original_key.startswith(f"tenants/{tenant.id}/recordings/")
        rec_id = rec.id
    page = client.get(f"/followups/tasks/{task_id}").get_data(as_text=True)
    assert f"/followups/recordings/{rec_id}" in page and "0:03" in page
    played = client.get(f"/followups/recordings/{rec_id}")
    assert played.status_code == 200 and played.mimetype == "audio/wav" and played.data[:4] == b"RIFF"
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "recording_played")) is not None
    stranger = make_tenant()
    assert client_for(stranger, stranger.owner_email).get(f"/followups/recordings/{rec_id}").status_code == 404


def test_audio_detection():
    from app.followups import audio

    assert audio.detect(_wav()) == "wav"
    assert audio.detect(b"#!AMR\n" + b"\x3c" + b"\x00" * 31) == "amr"
    assert audio.duration(b"#!AMR\n" + (b"\x3c" + b"\x00" * 31) * 50, "amr") == pytest.approx(1.0)
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + (b"\xff\xfb\x90\x00" + b"\x00" * 413) * 10
    assert audio.detect(mp3) == "mp3"
    assert audio.detect(b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00") == "m4a"
    assert audio.detect(b"\xff\xf1\x50\x80\x02\x1f\xfc") == "aac"
    assert audio.detect(b"<html>not audio</html>") is None
    assert audio.detect(b"%PDF-1.7") is None


def test_amr_is_converted_with_ffmpeg(app, clinic):
    from app.followups import audio, recordings

    if audio.ffmpeg() is None:
        pytest.skip("ffmpeg binary not installed: AMR conversion untested")
    tenant, busy, free, patient = clinic
    amr = b"#!AMR\n" + (b"\x3c" + b"\x00" * 31) * 100  # two seconds of 12.2 kbit/s frames
    with app.app_context(), tenant_context(tenant.id):
        task = _tasks(patient.id)[0]
        record = services.record_contact(task, services.ContactData(result="reached", version=str(task.version)),
                                         actor_id=None)
        rec = recordings.attach(record, amr, "call.amr", actor_id=None)
        assert rec.original_format == "amr" and rec.play_mime == "audio/wav"
        data, mime = recordings.play(rec)
        assert audio.detect(data) == "wav" and rec.duration_seconds == pytest.approx(2.0, abs=0.1)
        db.session.rollback()


def test_rls_keeps_follow_up_tables_apart(app, clinic, make_tenant):
    tenant, busy, free, patient = clinic
    other = make_tenant()
    with app.app_context(), tenant_context(other.id):
        for table in ("followup_plans", "followup_enrolments", "followup_tasks", "followup_records",
                      "followup_recordings"):
            count = db.session.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                                       {"t": tenant.id}).scalar()
            assert count == 0, table
        assert db.session.execute(text("SELECT count(*) FROM followup_plans")).scalar() > 0  # its own
