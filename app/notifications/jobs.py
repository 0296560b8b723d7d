"""RQ entry points: deliver one outbox row; sweep up what was left behind."""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.clinic import services as clinic_profile
from app.core import jobs as core_jobs
from app.core.urls import clinic_url
from app.notifications import channels, policy, sealed, services
from app.notifications.models import Notification
from app.notifications.queueing import (  # noqa: F401  (the queue side, used here and by tests)
    _SWEEP_CHECKED,
    QUEUE,
    SWEEP_EVERY,
    SWEEP_JOB_ID,
    enqueue_send,
    ensure_sweep_scheduled,
    job_id_of,
)
from app.notifications.unsubscribe import make_token
from tenants.context import tenant_context
from tenants.db import db
from tenants.models import Tenant

log = logging.getLogger(__name__)
CLINIC_CACHE_SECONDS = 60


def deliver(tenant_id: int, notification_id: int) -> str:
    app = core_jobs._job_app()
    with app.app_context(), tenant_context(tenant_id):
        # The claimed row is this job's until it is marked sent, failed or
        # pending again: its commits need not expire it (that would reload it).
        db.session().expire_on_commit = False
        row = services.claim(notification_id)
        if row is None:
            return "not claimable"  # sent, cancelled, not yet due, or another worker has it
        try:
            provider_id = _send(row, tenant_id)
        except sealed.Unsendable as exc:
            services.fail(row, str(exc))
            return "failed"
        except channels.PermanentError as exc:
            services.fail(row, str(exc))
            return "failed"
        except channels.TransientError as exc:
            services.retry_later(row, str(exc))
            return "retry"
        except Exception as exc:  # a bug or an unforeseen fault: keep the row visible, retry, give up later
            log.exception("sending notification %s failed unexpectedly", notification_id)
            db.session.rollback()
            again = services.get(notification_id)
            if again is None:  # claimed a moment ago; rows are not deleted
                raise LookupError(f"notification {notification_id} vanished") from exc
            services.retry_later(again, f"unexpected error: {exc!r}")
            return "retry"
        services.mark_sent(row, provider_id)
        return "sent"


def _send(row: Notification, tenant_id: int) -> str:
    def on_stage(stage: str) -> None:
        services.mark_stage(row, stage)

    out = services.outgoing(row)  # raises sealed.Unsendable: nothing goes out
    address = services.address_of(row)
    if row.channel == "inapp":
        return "inapp"
    if row.channel == "sms":
        return channels.send_sms(out, address, on_stage)
    clinic = _clinic(tenant_id)
    message = channels.build_email(out, address, clinic.name, _unsubscribe_url(row, clinic),
                                   channels._mail_settings().get("sender", "noreply@careloop.example.cn"))
    return channels.send_email(message, on_stage, console_text=out.log_text)


@dataclass(frozen=True)
class _Clinic:
    name: str
    slug: str
    read_at: float


_clinics: dict[int, _Clinic] = {}


def _clinic(tenant_id: int) -> _Clinic:
    """The clinic's name and address for its emails, read at most once a
    minute per process (a rename shows within a minute)."""
    clinic = _clinics.get(tenant_id)
    if clinic is None or time.monotonic() - clinic.read_at > CLINIC_CACHE_SECONDS:
        tenant = db.session.get_one(Tenant, tenant_id)
        clinic = _clinics[tenant_id] = _Clinic(clinic_profile.name(), tenant.slug, time.monotonic())
    return clinic


def _unsubscribe_url(row: Notification, clinic: _Clinic) -> str | None:
    if row.recipient_type != "patient" or row.category == "security":
        return None

    return clinic_url(clinic.slug, "notifications.unsubscribe", token=make_token(row))


# ------------------------------------------------------------------ sweep

def sweep(reschedule: bool = True) -> dict:
    """Re-queue due rows whose job was lost and recover rows stuck in
    'sending' (their worker died). Runs per clinic, so row-level security
    holds; reschedules itself."""
    app = core_jobs._job_app()
    totals = {"requeued": 0, "recovered": 0, "sent": 0, "unknown": 0}
    with app.app_context():
        tenant_ids = list(db.session.scalars(select(Tenant.id).where(Tenant.active.is_(True))))
        db.session.commit()
        waiting = _waiting_job_ids()
        for tenant_id in tenant_ids:
            with tenant_context(tenant_id):
                for key, count in _sweep_tenant(tenant_id, app.config, waiting).items():
                    totals[key] += count
                db.session.commit()
        if reschedule:
            try:
                core_jobs.queue(QUEUE).enqueue_in(SWEEP_EVERY, sweep, job_id=core_jobs.namespaced(SWEEP_JOB_ID))
            except Exception:
                log.exception("could not reschedule the notification sweep")
    return totals


def _sweep_tenant(tenant_id: int, config, waiting: set[str]) -> dict:
    now = policy.now()
    stuck_after = timedelta(seconds=config.get("NOTIFY_STUCK_SECONDS", 120))
    grace = timedelta(seconds=config.get("NOTIFY_REQUEUE_GRACE_SECONDS", 20))
    counts = {"requeued": 0, "recovered": 0, "sent": 0, "unknown": 0}
    stuck = db.session.scalars(select(Notification).where(
        Notification.status == "sending", Notification.claimed_at <= now - stuck_after))
    for row in stuck:
        counts[_recover(row)] += 1
    due = db.session.scalars(select(Notification.id).where(
        Notification.status == "pending", Notification.scheduled_at <= now - grace))
    for row_id in due:
        if job_id_of(row_id) not in waiting:  # its job is still to run: another would only be refused
            enqueue_send(tenant_id, row_id)
            counts["requeued"] += 1
    return counts


def _waiting_job_ids() -> set[str]:
    """Ids of the jobs scheduled, queued or running, read in that order (the
    order a job moves in, so a moving job is seen once) and before the rows: a
    job that ends meanwhile has left its row sent or queued again. A job
    missed in passing only gets a duplicate, which its claim refuses."""
    queue = core_jobs.queue(QUEUE)
    waiting = set(queue.scheduled_job_registry.get_job_ids())
    waiting.update(queue.get_job_ids())
    waiting.update(queue.started_job_registry.get_job_ids())
    return waiting


def _recover(row: Notification) -> str:
    """A send whose worker died. Before the commit point nothing was
    delivered: send again. After it, ask the provider where we can."""
    if row.secret_until is not None and row.secret_until <= policy.now():
        row.status, row.stage, row.last_error = "failed", "", "worker stopped; the sign-in code has expired: not resent"
        sealed.wipe(row)
        return "unknown"
    if row.stage != "committing" or row.channel == "inapp":
        _back_to_pending(row, "worker stopped before the message was handed over; sending again")
        return "recovered"
    if row.channel == "sms":
        accepted = channels.sms_already_accepted(row, services.address_of(row))
        if accepted:
            row.status, row.stage, row.provider_id, row.sent_at = "sent", "done", "recovered", policy.now()
            return "sent"
        if accepted is False:
            _back_to_pending(row, "worker stopped; the provider has no such message; sending again")
            return "recovered"
    row.status, row.stage = "failed", ""
    row.last_error = ("outcome unknown: the worker stopped while the provider was accepting the message; "
                      "check with the recipient before resending")
    return "unknown"


def _back_to_pending(row: Notification, reason: str) -> None:
    row.status, row.stage, row.last_error, row.scheduled_at = "pending", "", reason, policy.now()
    services._enqueue_after_commit(row)
