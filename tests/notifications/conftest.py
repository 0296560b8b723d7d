from contextlib import contextmanager

import pytest
from rq import SimpleWorker

from app.core import jobs
from tests.notifications.smtp_server import smtp_server


@pytest.fixture
def mail(app, monkeypatch):
    with app.app_context():
        jobs.queue("notifications").empty()  # nothing left over from other tests
    with smtp_server() as (mailbox, url):
        monkeypatch.setitem(app.config, "MAIL_URL", url)
        monkeypatch.setitem(app.config, "NOTIFY_BACKOFF_SECONDS", 0)
        yield mailbox


@pytest.fixture
def drain(app):
    """Run every queued job to the end, in this process."""

    def run():
        with app.app_context():
            worker = SimpleWorker([jobs.queue("notifications")], connection=jobs.redis_connection())
            worker.work(burst=True)
            failed = jobs.queue("notifications").failed_job_registry
            for job_id in failed.get_job_ids():
                job = jobs.queue("notifications").fetch_job(job_id)
                failed.remove(job_id)
                raise AssertionError(f"job {job_id} crashed:\n{job.latest_result().exc_string}")

    return run


@pytest.fixture
def as_tenant(app):
    from tenants.context import tenant_context

    @contextmanager
    def enter(tenant):
        with app.app_context(), tenant_context(tenant.id):
            yield

    return enter
