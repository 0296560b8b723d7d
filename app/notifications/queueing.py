"""Putting sends on the notifications queue (the jobs themselves are in
jobs.py, named here by path so the outbox service need not import them)."""
import logging
import time
from datetime import datetime, timedelta

from flask import current_app

from app.core import jobs as core_jobs
from app.notifications import policy

log = logging.getLogger(__name__)
QUEUE = "notifications"
SWEEP_JOB_ID = "careloop-notifications-sweep"
SWEEP_EVERY = timedelta(seconds=30)
DELIVER = "app.notifications.jobs.deliver"
SWEEP = "app.notifications.jobs.sweep"
_SWEEP_CHECKED = "careloop_notifications_sweep_checked"  # app.extensions: when this process last looked


def enqueue_send(tenant_id: int, notification_id: int, when: datetime | None = None) -> None:
    """Queue a send (at ``when`` if later). Failure here is not fatal: the
    sweep finds pending rows whose job was lost."""
    try:
        queue = core_jobs.queue(QUEUE)
        job_id = job_id_of(notification_id)
        if when and when > policy.now() + timedelta(seconds=1):
            queue.enqueue_at(when, DELIVER, tenant_id, notification_id, job_id=job_id)
        else:
            queue.enqueue(DELIVER, tenant_id, notification_id, job_id=job_id)
        ensure_sweep_scheduled()
    except Exception:
        log.exception("could not enqueue notification %s; the sweep will pick it up", notification_id)


def job_id_of(notification_id: int) -> str:
    return f"notification-{notification_id}"


def ensure_sweep_scheduled() -> None:
    """Schedule the sweep if it is not. Asked on every enqueue, so it reads
    Redis at most once per SWEEP_EVERY in each process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
    now = time.monotonic()
    if now < app.extensions.get(_SWEEP_CHECKED, float("-inf")) + SWEEP_EVERY.total_seconds():
        return
    queue = core_jobs.queue(QUEUE)
    if core_jobs.namespaced(SWEEP_JOB_ID) not in queue.scheduled_job_registry:
        queue.enqueue_in(SWEEP_EVERY, SWEEP, job_id=core_jobs.namespaced(SWEEP_JOB_ID))
    app.extensions[_SWEEP_CHECKED] = now
