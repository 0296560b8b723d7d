"""Printed health reports: how long one takes to render, short and long, and
how long 200 take through RQ with two worker processes.

In its own database (careloop_bench_reports, recreated) this script opens one
clinic and seeds, through the records service as staff entry does:
- a short-report patient: one exam of 12 results, three of them high and no
  history (the cover, contents with the findings, the abnormal results, every
  result: targets p95 < 1.5 s);
- a long-report patient: five yearly exams of every numeric indicator of the
  catalogue (about 70), a quarter of them out of range, so the report holds
  ten trend charts (target for about 12 pages: p95 < 4 s);
- BENCH_BATCH (200) patients like the short one.
Then it times, in this process, gathering plus rendering of each report
(``app.reports.printing.render``, what the print job does before storing)
BENCH_ROUNDS times, and finally makes the exam day's batch (every seeded
patient) as the batch page does and starts two RQ worker processes (this
script with --worker, burst) on the reports queue: the wall time from the
batch's creation to its merged PDF (target < 4 min). A batch is one job, so
one worker prints it while the other stays free for other reports.
A benchmark, not a test: missed targets are reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, BENCH_REDIS_URL,
BENCH_BATCH, BENCH_ROUNDS.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import benchdb  # noqa: E402  (scripts/benchdb.py, beside this script)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.core import jobs  # noqa: E402
from app.patients import services as patients  # noqa: E402
from app.records import services as records  # noqa: E402
from app.records.models import Indicator  # noqa: E402
from app.reports import batches, printing  # noqa: E402
from tenants.context import tenant_context  # noqa: E402
from tenants.db import db  # noqa: E402

APP_URL, OWNER_URL = benchdb.urls("careloop_bench_reports")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BATCH = int(os.environ.get("BENCH_BATCH", "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
WORKERS = 2
CONFIG_ENV = "BENCH_REPORTS_CONFIG"
SHORT_TARGET_S, LONG_TARGET_S, BATCH_TARGET_S = 1.5, 4.0, 240.0
EXAM = datetime(2026, 6, 2, 1, 30, tzinfo=timezone.utc)
SHORT_CODES = ("8480-6", "8462-4", "8867-4", "29463-7", "8302-2", "39156-5", "14771-0", "2093-3", "2571-8",
               "1742-6", "2160-0", "3084-1")


def config() -> dict:
    return {"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
            "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": "careloop bench data key",
            "SECRET_KEY": "careloop-bench-secret-key-0123456789abcdef", "REDIS_URL": REDIS_URL,
            "STORAGE_URL": f"file://{tempfile.gettempdir()}/careloop-bench-reports", "EMBEDDED_WORKER": False}


def _value(indicator: Indicator, high: bool) -> str | None:
    """A value inside the indicator's interval for a man of 50, or just above it."""
    rule = records.catalogue.reference_range(indicator, "M", 50) or {}
    low, top = rule.get("low"), rule.get("high")
    if top is None and low is None:
        return None
    if high and top is not None:
        return f"{top * 1.2:.2f}"
    if low is not None and top is not None:
        return f"{(low + top) / 2:.2f}"
    return f"{(low or 0) * 1.1 + (top or 0) * 0.8:.2f}"


def _enrol(name: str, n: int):
    return patients.enrol(patients.PatientData(name=name, sex="M", birth_date=date(1976, 3, 1),
                                               mobile=f"139{n:08d}"), consent_version="bench")


def seed(tenant_id: int) -> tuple[int, int, list[int]]:
    numeric = list(db.session.scalars(select(Indicator).where(Indicator.kind == "numeric", Indicator.active)))
    by_code = {i.code: i for i in numeric}
    short_set = [by_code[c] for c in SHORT_CODES if c in by_code]

    def short_exam(patient):
        values = [records.Value(ind, v, ind.unit, EXAM) for n, ind in enumerate(short_set)
                  if (v := _value(ind, n % 4 == 0)) is not None]
        records.store_many(patient, values)

    short = _enrol("短报告", 1)
    short_exam(short)
    long = _enrol("长报告", 2)
    for year in range(5):
        when = EXAM - timedelta(days=365 * (4 - year))
        values = [records.Value(ind, v, ind.unit, when) for n, ind in enumerate(numeric)
                  if (v := _value(ind, (n + year) % 4 == 0 and n < 40)) is not None]
        records.store_many(long, values)
    batch = []
    for n in range(BATCH):
        patient = _enrol(f"批量{n:03d}", 100 + n)
        short_exam(patient)
        batch.append(patient.id)
    db.session.commit()
    return short.id, long.id, batch


def render_once(patient_id: int) -> tuple[float, int]:
    started = time.perf_counter()
    rendered = printing.render(patients.get(patient_id), EXAM.date(), "zh_CN")
    return time.perf_counter() - started, rendered.pages


def time_renders(label: str, patient_id: int, target: float) -> None:
    render_once(patient_id)  # warm: fonts, templates
    times, pages = [], 0
    for _ in range(ROUNDS):
        took, pages = render_once(patient_id)
        times.append(took)
        db.session.rollback()
    p95 = statistics.quantiles(times, n=20)[-1]
    verdict = "met" if p95 < target else "MISSED"
    print(f"{label}: {pages} pages; p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s over {ROUNDS} "
          f"(target p95 < {target} s: {verdict})")


def time_batch(app, tenant_id: int) -> None:
    """The day's batch (every seeded patient had an exam that day) through the reports queue."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    started = time.perf_counter()
    with tenant_context(tenant_id):
        title, selection, items = batches.choose("day", day=EXAM.date())
        batch, _run = batches.create(title, selection, items, output="merged", locale="zh_CN", requested_by=None)
        batch_id = batch.id
    env = dict(os.environ, **{CONFIG_ENV: json.dumps(config())})
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log:
        procs = [subprocess.Popen([sys.executable, __file__, "--worker"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT) for _ in range(WORKERS)]
        for proc in procs:
            proc.wait()
    took = time.perf_counter() - started
    db.session.expire_all()  # the workers changed the batch
    with tenant_context(tenant_id):
        batch = batches.get(batch_id)
        done, status, pages = batch.done_count, batch.status, sum(r.pages for r in batches.printed(batch_id).values())
        db.session.rollback()
    verdict = "met" if took < BATCH_TARGET_S and status == "finished" else "MISSED"
    print(f"batch: {done} of {len(items)} reports ({pages} pages) {status} in {took:.1f} s, one merged PDF "
          f"({took / max(done, 1):.2f} s a report; target < {BATCH_TARGET_S:.0f} s: {verdict}); worker log {log.name}")


def worker() -> None:
    from rq import SimpleWorker

    app = create_app(json.loads(os.environ[CONFIG_ENV]))
    with app.app_context():
        SimpleWorker([jobs.queue("reports")], connection=jobs.redis_connection()).work(burst=True,
                                                                                       logging_level="WARNING")


def main() -> None:
    benchdb.recreate(OWNER_URL, APP_URL)
    app = create_app(config())
    with app.app_context(), app.test_request_context():
        tenant = benchdb.new_clinic("bench")
        with tenant_context(tenant.id):
            seeded = time.perf_counter()
            short_id, long_id, batch = seed(tenant.id)
            print(f"seeded 2 + {len(batch)} patients in {time.perf_counter() - seeded:.1f} s")
            time_renders("short report", short_id, SHORT_TARGET_S)
            time_renders("long report", long_id, LONG_TARGET_S)
        time_batch(app, tenant.id)


if __name__ == "__main__":
    worker() if "--worker" in sys.argv else main()
