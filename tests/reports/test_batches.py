"""Batch printing: a day's exams in one job, one PDF with a cover list or a ZIP; a worker killed half way
leaves its finished reports, and the resumed batch prints only the rest."""
import io
import re
import signal
import time
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.core import jobs
from app.patients.models import Patient
from app.records import services as records
from app.reports.models import HealthReport, ReportBatch
from tenants.context import tenant_context
from tenants.db import db
from tests import child_process
from tests.pdfs import poppler, work_off

pytestmark = [pytest.mark.redis]
EXAM = datetime(2026, 6, 2, 1, 30, tzinfo=timezone.utc)
CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "DATABASE_OWNER_URL", "REDIS_URL", "RQ_NAMESPACE", "SECRET_KEY", "DATA_KEY",
               "STORAGE_URL")


@pytest.fixture(autouse=True)
def forget_the_killed_job(app):
    """The killed worker's job stays in the started registry; nothing will finish it."""
    yield
    with app.app_context():
        jobs.redis_connection().delete(jobs.queue("reports").started_job_registry.key)


def _examined(app, make_patient, tenant, count: int) -> list:
    people = [make_patient(tenant, name=f"批量{n:02d}号") for n in range(count)]
    with app.app_context(), tenant_context(tenant.id):
        glucose, systolic = records.indicator_by_code("14771-0"), records.indicator_by_code("8480-6")
        for n, person in enumerate(people):
            p = db.session.get(Patient, (tenant.id, person.id))
            records.store_many(p, [records.Value(glucose, f"{5 + n % 4}.1", "mmol/L", EXAM),
                                   records.Value(systolic, f"{120 + n}", "mm[Hg]", EXAM)])
        db.session.commit()
    return people


def _batch(app, tenant) -> ReportBatch:
    with app.app_context(), tenant_context(tenant.id):
        found = db.session.scalar(select(ReportBatch))
        db.session.expunge(found)
        return found


def _printed(app, tenant) -> dict[int, tuple[int, str]]:
    with app.app_context(), tenant_context(tenant.id):
        return {r.patient_id: (r.id, r.storage_key)
                for r in db.session.scalars(select(HealthReport).where(HealthReport.batch_id.is_not(None)))}


def test_choices_that_print_nothing_are_refused_next_to_their_field(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    _examined(app, make_patient, tenant, 1)
    client = client_for(tenant, tenant.owner_email)
    nobody = client.submit("/reports/batches", data={"kind": "day", "day": "2026-06-03", "output": "merged"})
    assert nobody.status_code == 400 and 'id="e-kind"' in nobody.get_data(as_text=True)
    assert 'value="2026-06-03"' in nobody.get_data(as_text=True)  # the typing is kept
    no_tag = client.submit("/reports/batches", data={"kind": "tag", "tag": "没有的标签", "output": "merged"})
    assert no_tag.status_code == 400 and 'id="e-tag"' in no_tag.get_data(as_text=True)
    no_package = client.submit("/reports/batches",
                               data={"kind": "package", "since": "2026-06-02", "until": "2026-06-01"})
    page = no_package.get_data(as_text=True)
    assert no_package.status_code == 400 and 'id="e-package"' in page and 'id="e-since"' in page
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.scalar(select(ReportBatch)) is None


def test_a_zip_of_a_days_reports(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    people = _examined(app, make_patient, tenant, 3)
    client = client_for(tenant, tenant.owner_email)
    bad = client.submit("/reports/batches", data={"kind": "day", "day": "2026-06-02", "output": "zip",
                                                  "template": "nonsense"})
    assert bad.status_code == 400 and 'id="e-template"' in bad.get_data(as_text=True)
    made = client.submit("/reports/batches", data={"kind": "day", "day": "2026-06-02", "output": "zip",
                                                   "template": "chronic_review"})
    assert made.status_code == 302
    work_off(app)
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    download = client.get(re.search(r'href="(/jobs/\d+/download)"', page).group(1))
    assert download.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert names[0] == "00-list.pdf" and sorted(names[1:]) == sorted(
        f"health-report-{p.card_no}-2026-06-02.pdf" for p in people)
    with app.app_context(), tenant_context(tenant.id):
        assert {r.template_key for r in db.session.scalars(select(HealthReport))} == {"chronic_review"}
    other = make_tenant()
    assert client_for(other, other.owner_email).get(made.headers["Location"]).status_code == 404


@pytest.mark.postgres
def test_a_worker_killed_half_way_does_not_print_finished_reports_again(app, make_tenant, make_patient, client_for,
                                                                         pinned_clock):
    tenant = make_tenant()
    people = _examined(app, make_patient, tenant, 12)
    client = client_for(tenant, tenant.owner_email)
    made = client.submit("/reports/batches", data={"kind": "day", "day": "2026-06-02", "output": "merged"})
    batch_url = made.headers["Location"]

    worker = child_process.start(app, "tests.reports.worker_process", keys=CONFIG_KEYS)
    try:
        deadline = time.monotonic() + 120
        while len(_printed(app, tenant)) < 2:
            assert worker.poll() is None and time.monotonic() < deadline, "the worker ended or never printed"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(30)
    before = _printed(app, tenant)
    assert 2 <= len(before) < 12  # killed half way
    assert "/resume" not in client.get(batch_url).get_data(as_text=True)  # it may still be printing

    pinned_clock.shift(timedelta(minutes=3))  # nothing printed for longer than a report takes: its worker is gone
    page = client.get(batch_url).get_data(as_text=True)
    assert "/resume" in page
    assert client.submit(batch_url + "/resume").status_code == 302
    work_off(app)

    after = _printed(app, tenant)
    assert len(after) == 12 and all(after[pid] == kept for pid, kept in before.items())  # not printed again
    batch = _batch(app, tenant)
    assert batch.status == "finished" and batch.done_count == 12
    page = client.get(batch_url).get_data(as_text=True)
    merged = client.get(re.search(r'href="(/jobs/\d+/download)"', page).group(1))
    text = poppler("pdftotext", merged.data)
    assert all(p.name in text for p in people)
    with app.app_context(), tenant_context(tenant.id):
        pages = sum(r.pages for r in db.session.scalars(select(HealthReport)))
    assert re.search(rf"Pages:\s+{pages + 1}\n", poppler("pdfinfo", merged.data))  # the cover list, every report
