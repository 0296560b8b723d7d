"""The event path between capabilities: the signals, the after-commit queue,
and a lab report that reaches tags and follow-up tasks through them alone."""
import re
from pathlib import Path

import pytest
from rq import SimpleWorker
from sqlalchemy import select, text

from app.core import events, jobs, txn
from app.followups.models import FollowupPlan, FollowupTask
from app.records import api_tokens
from app.tagging.models import PatientTag, Tag
from tenants.context import tenant_context
from tenants.db import db

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_signals() -> dict[str, list[str]]:
    """signal name -> the cells of its row in the README's signal table."""
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([a-z-]+)`\s*\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_the_readme_names_every_signal_its_sender_and_listeners(app):
    table = _readme_signals()
    assert sorted(table) == sorted(events.DEFINED)
    for name in events.DEFINED:
        signal = events._signals[name]
        assert signal.receivers, f"nobody listens to {name}"
        listeners = table[name][-1]
        for receiver in signal.receivers.values():
            package = receiver.__module__.split(".")[1]
            assert package in listeners, f"{name}: {receiver.__module__}.{receiver.__name__} not in the README"


def _hl7(card_no: str, control: str) -> bytes:
    return ("\r".join([
        f"MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|20240506093000||ORU^R01|{control}|P|2.5.1",
        f"PID|1||{card_no}||张明华||19700101|M",
        "OBR|1||BP1001|VS^体检血压|||20240506083000",
        "OBX|1|NM|8480-6^收缩压^LN||172|mm[Hg]||H|||F|||20240506083000",
        "OBX|2|NM|8462-4^舒张压^LN||104|mm[Hg]||H|||F|||20240506083000",
    ]) + "\r").encode()


def test_a_report_sent_to_the_api_reaches_tags_and_tasks_through_signals(app, make_tenant, make_patient,
                                                                         make_staff, client_for):
    tenant = make_tenant()
    make_staff(tenant, "health_manager")
    patient = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        db.session.scalar(select(FollowupPlan).where(FollowupPlan.pack_key == "report_review")).active = True
        _row, token = api_tokens.create("LIS", ["hl7:write"], None)
        db.session.commit()
    sent: list[str] = []

    def note(name):
        return lambda _tenant_id, **_ids: sent.append(name)

    notes = {name: note(name) for name in events.DEFINED}
    for name, receiver in notes.items():
        events._signals[name].connect(receiver)
    try:
        answer = client_for(tenant).post("/api/v1/hl7", data=_hl7(patient.card_no, "EV1"), headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/hl7-v2"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert {"report-imported", "results-stored"} <= set(sent) and "tags-changed" not in sent
        with app.app_context(), tenant_context(tenant.id):
            review = db.session.scalars(select(FollowupTask).join(
                FollowupPlan, FollowupPlan.id == FollowupTask.plan_id).where(
                FollowupPlan.pack_key == "report_review", FollowupTask.patient_id == patient.id)).all()
            assert review, "the report-review plan did not start"
            assert not db.session.scalars(select(PatientTag).where(PatientTag.patient_id == patient.id)).all()
            # the tagging job was queued after the commit, not run inside the request
            worker = SimpleWorker([jobs.queue("default")], connection=jobs.redis_connection())
            worker.work(burst=True)
        assert "tags-changed" in sent
        with app.app_context(), tenant_context(tenant.id):
            tags = set(db.session.scalars(select(Tag.name).join(PatientTag, PatientTag.tag_id == Tag.id).where(
                PatientTag.patient_id == patient.id)))
            assert "血压偏高" in tags
            bp_tasks = db.session.scalars(select(FollowupTask).join(
                FollowupPlan, FollowupPlan.id == FollowupTask.plan_id).where(
                FollowupPlan.pack_key == "bp_high", FollowupTask.patient_id == patient.id)).all()
            assert bp_tasks and all(t.assignee_id for t in bp_tasks)
    finally:
        for name, receiver in notes.items():
            events._signals[name].disconnect(receiver)


@pytest.fixture
def session_log(app):
    """A log that after-commit, gathered and rollback work append to."""
    with app.app_context():
        db.session.rollback()
        yield []
        db.session.rollback()


def test_work_runs_after_the_outer_commit_and_a_savepoint_takes_its_own_back(app, session_log):
    log = session_log
    db.session.execute(text("SELECT 1"))
    txn.after_commit(log.append, "outer")
    txn.after_commit(log.append, "outer-again", key="k")
    txn.after_commit(log.append, "ignored: same key", key="k")
    with db.session.begin_nested():
        txn.after_commit(log.append, "released savepoint")
    try:
        with db.session.begin_nested():
            txn.after_commit(log.append, "rolled-back savepoint")
            txn.after_rollback(log.append, "undo savepoint")
            raise RuntimeError
    except RuntimeError:
        pass
    assert log == ["undo savepoint"]
    txn.gather(lambda items: log.append(("gathered", items)), 1, key="g")
    try:
        with db.session.begin_nested():
            txn.gather(lambda items: log.append(("gathered", items)), 2, key="g")
            raise RuntimeError
    except RuntimeError:
        pass
    txn.gather(lambda items: log.append(("gathered", items)), 3, key="g")
    db.session.commit()
    assert log == ["undo savepoint", ("gathered", [1, 3]), "outer", "outer-again", "released savepoint"]


def test_a_rolled_back_transaction_runs_only_its_rollback_work(app, session_log):
    log = session_log
    db.session.execute(text("SELECT 1"))
    txn.after_commit(log.append, "never")
    txn.gather(lambda items: log.append("never gathered"), 1, key="g")
    txn.after_rollback(log.append, "undone")
    db.session.rollback()
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert log == ["undone"]


def test_work_keyed_in_a_savepoint_is_queued_again_outside_it(app, session_log):
    """A key first queued inside a savepoint that rolls back must not swallow the same work queued outside."""
    log = session_log
    db.session.execute(text("SELECT 1"))
    try:
        with db.session.begin_nested():
            txn.after_commit(log.append, "inside", key="same")
            raise RuntimeError
    except RuntimeError:
        pass
    txn.after_commit(log.append, "outside", key="same")
    db.session.commit()
    assert log == ["outside"]


def test_a_released_savepoints_work_joins_the_transaction_around_it(app, session_log):
    log = session_log
    db.session.execute(text("SELECT 1"))
    with db.session.begin_nested():
        txn.after_commit(log.append, "once", key="same")
    txn.after_commit(log.append, "twice?", key="same")
    db.session.commit()
    assert log == ["once"]
