"""Starting and ending plans for many patients at once.

A rule re-evaluated over a whole clinic can add a plan's tag to tens of
thousands of patients, so enrolment works on sets: a few statements per
thousand patients, never a round of queries per patient. One patient is the
same code with a set of one.

Assignment: the patient's health manager while that account is active, else
the active health manager with the fewest open tasks, counting the tasks this
batch has handed out so far, so a large batch is spread evenly.
"""
import heapq
import time
from collections.abc import Iterable

from sqlalchemy import and_, exists, func, select, update

from app.auth import services as staff
from app.core import txn
from app.core.bulk import insert_rows
from app.followups import plans
from app.followups.models import FollowupPlan, FollowupTask, PlanEnrolment
from app.patients import services as patients
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.ids import new_id
from tenants.models import utcnow

CHUNK = 5000


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


# Open tasks per health manager, per clinic: counting them reads every open
# task (0.1 s at 470,000), too slow to repeat for each patient a job enrols.
# A process keeps the counts for a minute. What a transaction hands out or
# cancels is applied when it commits; a rollback drops the clinic's counts,
# to be read again. Another process's assignments, and tasks done, show
# within the minute.
_open_tasks: dict[int, tuple[float, dict[int, int]]] = {}
OPEN_TASKS_TTL_S = 60.0
_HANDED_OUT = "careloop_followup_handed_out"  # session.info: {tenant: {manager: tasks}} not yet committed


def _handed_out_now() -> dict[int, dict[int, int]]:
    return db.session.info.setdefault(_HANDED_OUT, {})


def _open_task_counts(manager_ids: list[int]) -> dict[int, int]:
    """Open tasks per manager, as this transaction sees them."""
    tenant_id, now = require_tenant_id(), time.monotonic()
    kept = _open_tasks.get(tenant_id)
    pending = _handed_out_now().setdefault(tenant_id, {})
    if kept is None or now - kept[0] >= OPEN_TASKS_TTL_S or not set(manager_ids) <= set(kept[1]):
        found = db.session.execute(
            select(FollowupTask.assignee_id, func.count()).where(
                FollowupTask.status == "pending", FollowupTask.assignee_id.in_(manager_ids))
            .group_by(FollowupTask.assignee_id)).tuples().all()
        # assignee_id is one of manager_ids here, never None
        counts = dict.fromkeys(manager_ids, 0) | {manager: n for manager, n in found if manager is not None}
        kept = _open_tasks[tenant_id] = (now, counts)
        pending.clear()  # the count includes this transaction's tasks; a rollback drops it
    return {user_id: count + pending.get(user_id, 0) for user_id, count in kept[1].items()}


def _hand_out(user_id: int, tasks: int) -> None:
    tenant_id = require_tenant_id()
    pending = _handed_out_now().setdefault(tenant_id, {})
    pending[user_id] = pending.get(user_id, 0) + tasks
    txn.after_commit(_keep_handed_out, key="followups:handed-out")
    txn.after_rollback(_forget_counts, tenant_id, key=("followups:forget-counts", tenant_id))


def _keep_handed_out() -> None:
    """After commit: what the transaction handed out joins the kept counts."""
    for tenant_id, handed in db.session.info.pop(_HANDED_OUT, {}).items():
        kept = _open_tasks.get(tenant_id)
        for user_id, tasks in handed.items():
            if kept is not None and user_id in kept[1]:
                kept[1][user_id] += tasks


def _forget_counts(tenant_id: int) -> None:
    """After a rollback: the clinic's counts are read again when next needed."""
    _open_tasks.pop(tenant_id, None)
    db.session.info.get(_HANDED_OUT, {}).pop(tenant_id, None)


class _Assigner:
    """Who gets a new patient's tasks (see the module's docstring)."""

    def __init__(self, own_managers: set[int]):
        self.active_own = {user.id for user in staff.get_many(own_managers).values() if user.active}
        self.heap: list | None = None  # (open tasks, created_at, id), read on first need

    def _load_heap(self) -> list:
        managers = staff.active_staff(("health_manager",))
        counts = _open_task_counts([m.id for m in managers]) if managers else {}
        heap = [(counts[m.id], m.created_at, m.id) for m in managers]
        heapq.heapify(heap)
        return heap

    def __call__(self, health_manager_id: int | None, tasks: int) -> int | None:
        if health_manager_id in self.active_own:
            _hand_out(health_manager_id, tasks)
            return health_manager_id
        if self.heap is None:
            self.heap = self._load_heap()
        if not self.heap:
            return None
        load, created_at, user_id = heapq.heappop(self.heap)
        heapq.heappush(self.heap, (load + tasks, created_at, user_id))
        _hand_out(user_id, tasks)
        return user_id


def _eligible(plan_id: int, patient_ids: list[int]) -> list[tuple[int, int | None]]:
    """(patient id, health manager id) of the live patients among these who
    do not follow the plan now."""
    Patient = patients.Patient  # noqa: N806  (read in this query)
    following = exists().where(PlanEnrolment.tenant_id == Patient.tenant_id, PlanEnrolment.plan_id == plan_id,
                               PlanEnrolment.patient_id == Patient.id,
                               PlanEnrolment.status == "active")
    found: list[tuple[int, int | None]] = []
    for chunk in _chunks(patient_ids):
        found += db.session.execute(select(Patient.id, Patient.health_manager_id).where(
            Patient.id.in_(chunk), Patient.archived_at.is_(None), ~following).order_by(Patient.id)).tuples().all()
    return found


def enrol_many(plan: FollowupPlan, started_by: dict[int, str]) -> dict[int, int]:
    """Start the plan for these patients (patient id -> what started it) and
    create their tasks. Archived patients and those following the plan now
    are skipped; a concurrent trigger loses on the partial unique index
    instead of failing. Returns {patient id: enrolment id} of those enrolled.
    The caller commits."""
    candidates = _eligible(plan.id, list(started_by))
    if not candidates:
        return {}
    tenant_id, now = require_tenant_id(), utcnow()
    rows = [{"tenant_id": tenant_id, "id": new_id(), "plan_id": plan.id, "patient_id": patient_id,
             "status": "active", "started_by": started_by[patient_id][:200], "reason": "", "started_at": now}
            for patient_id, _manager in candidates]
    enrolled: dict[int, int] = dict(insert_rows(
        PlanEnrolment.__table__, rows, returning=("patient_id", "id"),
        skip_conflicts=(["tenant_id", "plan_id", "patient_id"], "status = 'active'")))
    dates = plans.due_dates(plan, plans.today())
    assign = _Assigner({manager for _patient, manager in candidates if manager})
    tasks = [{"tenant_id": tenant_id, "id": new_id(), "enrolment_id": enrolled[patient_id], "plan_id": plan.id,
              "patient_id": patient_id, "assignee_id": assignee, "due_date": due, "channel": plan.channel,
              "status": "pending", "failed_attempts": 0, "max_attempts": plan.max_attempts, "cancel_reason": "",
              "created_at": now, "version": 1}
             for patient_id, manager in candidates if patient_id in enrolled
             for assignee in [assign(manager, len(dates))] for due in dates]
    insert_rows(FollowupTask.__table__, tasks)
    return enrolled


def cancel_many(enrolment_ids: list[int], reason: str) -> int:
    """End these active enrolments and cancel their pending tasks, keeping
    the reason. Returns how many tasks were cancelled. The caller commits."""
    now, reason, cancelled = utcnow(), reason[:200], 0
    for chunk in _chunks(enrolment_ids):
        db.session.execute(update(PlanEnrolment).where(PlanEnrolment.id.in_(chunk), PlanEnrolment.status == "active")
                           .values(status="cancelled", reason=reason, ended_at=now)
                           .execution_options(synchronize_session="fetch"))
        taken_back = db.session.scalars(
            update(FollowupTask).where(and_(FollowupTask.enrolment_id.in_(chunk), FollowupTask.status == "pending"))
            .values(status="cancelled", cancel_reason=reason, version=FollowupTask.version + 1)
            .returning(FollowupTask.assignee_id).execution_options(synchronize_session="fetch")).all()
        for assignee_id in taken_back:
            if assignee_id is not None:
                _hand_out(assignee_id, -1)
        cancelled += len(taken_back)
    return cancelled
