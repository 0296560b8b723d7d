"""Background jobs on RQ, tracked per tenant so the page can show progress.

A ``JobRun`` row is the tenant-scoped record of one piece of background work:
the page polls it (htmx), the download view checks it. The RQ job carries only
the tenant id and the row id, never objects, and runs inside tenant_context().

Production: Redis from REDIS_URL and ``rq worker --with-scheduler``.
Embedded (no REDIS_URL): an in-process fakeredis server and an RQ worker
plus scheduler loop in background threads, so the same code paths run.
"""
import logging
import threading
from datetime import datetime

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty
from sqlalchemy import BigInteger, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.utils import import_string

from tenants.context import tenant_context
from tenants.db import Model, UTCDateTime, db
from tenants.models import utcnow
from tenants.scoping import TenantScoped

log = logging.getLogger(__name__)
QUEUES = ("default", "reports", "notifications")
JOB_TIMEOUT = 300


class JobRun(TenantScoped, Model):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_tenant_kind_patient", "tenant_id", "kind", "patient_id"),)

    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued running finished failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    patient_id: Mapped[int | None] = mapped_column(BigInteger)
    requested_by: Mapped[int | None] = mapped_column(BigInteger)
    rq_job_id: Mapped[str] = mapped_column(String(64), default="")
    result_key: Mapped[str] = mapped_column(String(300), default="")
    result_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed")


# Which permission downloads a kind's result.
DOWNLOAD_PERMISSION = {"member_card": "cards.print", "health_report": "reports.print",
                       "report_batch": "reports.print"}
TIMEOUT_OF_KIND = {"report_batch": 3600}  # seconds; others JOB_TIMEOUT
QUEUE_OF_KIND = {"member_card": "reports", "health_report": "reports", "report_batch": "reports",
                 "report_import": "reports", "api_import": "reports"}


# ------------------------------------------------------------------ redis

_embedded_lock = threading.Lock()
_embedded_server = None


def _embedded_redis() -> Redis:
    """A client of the process's in-memory fakeredis server (created once)."""
    global _embedded_server
    from fakeredis import FakeRedis, FakeServer

    with _embedded_lock:
        if _embedded_server is None:
            _embedded_server = FakeServer()
    return FakeRedis(server=_embedded_server)


def redis_connection(app=None) -> Redis:
    app = app or current_app
    conn = app.extensions.get("careloop_redis")
    if conn is None:
        url = app.config.get("REDIS_URL")
        conn = Redis.from_url(url) if url else _embedded_redis()
        app.extensions["careloop_redis"] = conn
    return conn


def namespaced(name: str, app=None) -> str:
    """A queue name or fixed job id in this deployment's key space
    (RQ_NAMESPACE, empty in production; each test run has its own)."""
    return (app or current_app).config.get("RQ_NAMESPACE", "") + name


def queue(name: str = "default", app=None) -> Queue:
    return Queue(namespaced(name, app), connection=redis_connection(app), default_timeout=JOB_TIMEOUT)


# ------------------------------------------------------------ enqueueing

def start(kind: str, handler: str, *, patient_id: int | None = None, requested_by: int | None = None,
          **kwargs) -> JobRun:
    """Record a JobRun, commit, then enqueue: a worker never sees an
    uncommitted row, and a failed enqueue is shown as a failed run."""
    run = JobRun(kind=kind, patient_id=patient_id, requested_by=requested_by)
    db.session.add(run)
    db.session.commit()
    try:
        job = queue(QUEUE_OF_KIND.get(kind, "default")).enqueue(
            run_tracked, run.tenant_id, run.id, handler, dict(kwargs, patient_id=patient_id),
            job_timeout=TIMEOUT_OF_KIND.get(kind, JOB_TIMEOUT), result_ttl=3600, failure_ttl=86400,
        )
    except Exception as exc:  # Redis unreachable
        log.exception("could not enqueue %s", kind)
        run.status, run.message = "failed", f"queue unavailable: {type(exc).__name__}"
    else:
        run.rq_job_id = job.id
    db.session.commit()
    return run


def get_run(run_id: int) -> JobRun | None:
    return db.session.scalar(select(JobRun).where(JobRun.id == run_id))


def recent_runs(kind: str, *, patient_id: int | None = None, limit: int = 3) -> list[JobRun]:
    query = select(JobRun).where(JobRun.kind == kind).order_by(JobRun.id.desc()).limit(limit)
    if patient_id is not None:
        query = query.where(JobRun.patient_id == patient_id)
    return list(db.session.scalars(query))


# -------------------------------------------------------------- running

class Progress:
    """Handed to a job handler: ``progress(40, "rendering")`` updates the row."""

    def __init__(self, run: JobRun):
        self.run = run

    def __call__(self, percent: int, message: str = "") -> None:
        self.run.progress = max(0, min(100, int(percent)))
        if message:
            self.run.message = message[:500]
        db.session.commit()


_worker_app = None


def _job_app():
    """The Flask app for a job: the current one (embedded worker, tests) or,
    in a standalone ``rq worker`` process, one built once from the environment."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


def run_tracked(tenant_id: int, run_id: int, handler: str, kwargs: dict) -> str:
    app = _job_app()
    with app.app_context(), tenant_context(tenant_id):
        run = db.session.get(JobRun, (tenant_id, run_id))
        if run is None:
            return "missing"
        if run.status == "finished":  # a retried job after success does nothing twice
            return "finished"
        run.status, run.progress = "running", 5
        db.session.commit()
        try:
            result = import_string(handler)(Progress(run), **kwargs) or {}
        except Exception as exc:
            db.session.rollback()
            run = db.session.get_one(JobRun, (tenant_id, run_id))
            run.status, run.message, run.finished_at = "failed", str(exc)[:500], utcnow()
            db.session.commit()
            raise
        run.status, run.progress, run.finished_at = "finished", 100, utcnow()
        run.result_key = result.get("key", "")
        run.result_name = result.get("name", "")
        run.message = result.get("message", "")
        db.session.commit()
        return "finished"


# ------------------------------------------------------- embedded worker

class ThreadWorker(SimpleWorker):
    """An RQ worker that can live in a non-main thread: no signal handlers,
    and job time-outs enforced by a timer instead of SIGALRM."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass

    def _set_ip_address(self, connection) -> None:
        try:
            super()._set_ip_address(connection)
        except ValueError:  # fakeredis answers CLIENT INFO in a shape redis-py cannot parse
            self.ip_address = "unknown"


def _scheduler_loop(app, stop: threading.Event) -> None:
    with app.app_context():
        scheduler = RQScheduler([namespaced(q, app) for q in QUEUES], connection=redis_connection(app))
        while not stop.is_set():
            try:
                scheduler.acquire_locks()
                if scheduler.acquired_locks:
                    scheduler.enqueue_scheduled_jobs()
            except Exception:
                log.exception("embedded scheduler tick failed")
            stop.wait(1.0)


class WorkerThreads:
    """The embedded worker's (and scheduler's) daemon threads."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, target, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop taking jobs and wait for the job in hand to end: a worker left
        running would go on taking other work's jobs."""
        self.event.set()
        for thread in self.threads:
            thread.join(timeout)


def start_worker_thread(app, *, with_scheduler: bool = True) -> WorkerThreads:
    """Run an RQ worker (and scheduler) in daemon threads; ``stop()`` the
    returned handle to end them."""
    threads = WorkerThreads()

    def work():
        with app.app_context():
            worker = ThreadWorker([queue(name, app) for name in QUEUES], connection=redis_connection(app))
            while not threads.event.is_set():
                worker.work(burst=True, logging_level="WARNING")
                threads.event.wait(0.3)

    threads.start(work, name="rq-worker")
    if with_scheduler:
        threads.start(_scheduler_loop, app, threads.event, name="rq-scheduler")
    return threads


def start_embedded_worker(app) -> None:
    if app.config.get("REDIS_URL"):
        return  # production-style: run `rq worker --with-scheduler` instead
    app.extensions["careloop_worker"] = start_worker_thread(app)
    log.info("embedded RQ worker started")


def register(app) -> None:
    app.jinja_env.globals["job_download_permission"] = DOWNLOAD_PERMISSION.get
