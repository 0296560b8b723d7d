"""Risk assessments at scale: every model for every patient of a clinic
(``flask risk recompute``; the issue's target is 200,000 patients with 3
million observations under 60 s) and one patient after a new result (target
p95 under 50 ms).

In its own database (careloop_bench_risk, dropped and recreated) this script
1. migrates and creates one clinic;
2. seeds, as the owner role with INSERT ... SELECT generate_series, the
   patients and results of scripts/bench_tagging.py (BENCH_PATIENTS, 20,000 by
   default: 15 results each on average, a second, older checkup for a quarter
   of them), a recorded smoking habit for everyone (so the history counts as
   taken) and a diabetes history item for one in ten;
3. as the application role (row-level security on) times the clinic-wide
   recomputation from no assessments (which also stores the scores as
   observations), then again with nothing changed, then one patient at a
   time after a new systolic pressure: ``recompute`` of the models that read it (as the event
   path runs them) and the commit (p50/p95), and the same of every model.
A benchmark, not a test: missed targets are reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, BENCH_PATIENTS, BENCH_REDIS_URL.
"""
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

os.environ.setdefault("BENCH_PATIENTS", "20000")

import bench_tagging  # noqa: E402  (its seeding: the same population)
import benchdb  # noqa: E402  (scripts/benchdb.py, beside this script)
import psycopg  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.records.models import Indicator, Observation  # noqa: E402
from app.risk import assessments  # noqa: E402
from app.risk.definitions import models_reading  # noqa: E402
from app.risk.models import RiskAssessment  # noqa: E402
from tenants.context import tenant_context  # noqa: E402
from tenants.db import db  # noqa: E402

APP_URL, OWNER_URL = benchdb.urls("careloop_bench_risk")
bench_tagging.APP_URL, bench_tagging.OWNER_URL = APP_URL, OWNER_URL
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
PATIENTS = bench_tagging.PATIENTS
SLUG = "bench"
CLINIC_TARGET_S, CLINIC_TARGET_PATIENTS, PATIENT_TARGET_MS, PATIENT_SAMPLE = 60.0, 200_000, 50.0, 300
BASE = 10**15


def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": "careloop bench data key",
                       "SECRET_KEY": "careloop-bench-secret-key-0123456789abcdef", "REDIS_URL": REDIS_URL})


def seed_history(tenant_id: int) -> None:
    with psycopg.connect(benchdb.libpq(OWNER_URL)) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        conn.execute("UPDATE patients SET smoking = CASE WHEN id % 5 = 0 THEN 'current' ELSE 'never' END")
        conn.execute(f"""
            INSERT INTO health_history_items (tenant_id, id, patient_id, kind, description, note, created_at)
            SELECT {tenant_id}, {BASE} + g, {BASE} + g, 'illness', '2 型糖尿病', '', now() - interval '2 years'
            FROM generate_series(1, {PATIENTS}) g WHERE g % 10 = 0""")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) patients, health_history_items")


def clinic_wide(app, tenant_id: int, label: str) -> float:
    with app.app_context(), tenant_context(tenant_id):
        started, cpu = time.perf_counter(), time.process_time()
        count, added = assessments.recompute_clinic()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        by_status = dict(db.session.execute(select(RiskAssessment.status, func.count())
                                            .where(RiskAssessment.is_current).group_by(RiskAssessment.status)).all())
    print(f"\n{label}: {seconds:.1f} s ({cpu:.1f} s of this process's CPU) for {count:,} patients "
          f"({count / seconds:,.0f} patients/s), "
          f"{added:,} assessments added; current by status {by_status}")
    return seconds


def per_patient(app, tenant_id: int, systolic_id: int, models: list[str] | None) -> list[float]:
    """A new systolic pressure for a random patient (inserted as an import stores it), then the
    timed recomputation and commit, one patient at a time: of ``models`` (those the event path
    recomputes after a systolic pressure), or of every model (None)."""
    rng = random.Random(11 if models is not None else 12)
    offset = 0 if models is not None else PATIENT_SAMPLE + 20  # the second run's rows have ids of their own
    timings = []
    insert = text("INSERT INTO observations (tenant_id, id, patient_id, indicator_id, observed_at, value, "
                  "value_text, reported_unit, ref_text, flag, flag_source, status, origin, fingerprint, created_at) "
                  "VALUES (:t, :id, :p, :i, :at, :v, '', '', '', '', '', 'final', 'import', :fp, now())")
    with app.app_context(), tenant_context(tenant_id):
        for n in range(PATIENT_SAMPLE + 20):
            patient_id = BASE + rng.randrange(1, PATIENTS + 1)
            db.session.execute(insert, {"t": tenant_id, "id": 9 * 10**17 + offset + n, "p": patient_id,
                                        "i": systolic_id, "at": datetime.now(timezone.utc) - timedelta(minutes=n),
                                        "v": round(rng.gauss(128, 18), 0), "fp": f"bench-risk-{offset + n}"})
            db.session.commit()
            started = time.perf_counter()
            assessments.recompute([patient_id], models)
            db.session.commit()
            if n >= 20:  # warm-up
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    print(f"database {make_url(OWNER_URL).database}: recreating and migrating")
    benchdb.recreate(OWNER_URL, APP_URL)
    app = make_app()
    with app.app_context():
        tenant = benchdb.new_clinic(SLUG)
        tenant_id, prefix = tenant.id, tenant.card_prefix
        with tenant_context(tenant_id):
            indicators = dict(db.session.execute(select(Indicator.code, Indicator.id)).all())
            db.session.commit()
    print(f"seeding {PATIENTS:,} patients")
    seconds = bench_tagging.seed(tenant_id, prefix, indicators)
    seed_history(tenant_id)
    with app.app_context(), tenant_context(tenant_id):
        observed = db.session.scalar(select(func.count()).select_from(Observation))
    print(f"seeded in {seconds:.1f} s; {observed:,} observations visible to the app role")

    cold = clinic_wide(app, tenant_id, "clinic-wide, from no assessments")
    warm = clinic_wide(app, tenant_id, "clinic-wide again, nothing changed")
    affected = models_reading(codes=["8480-6"])
    cuts = statistics.quantiles(per_patient(app, tenant_id, indicators["8480-6"], affected), n=100,
                                method="inclusive")
    every = statistics.quantiles(per_patient(app, tenant_id, indicators["8480-6"], None), n=100,
                                 method="inclusive")

    print("\n==== summary " + "=" * 60)
    print(f"data                 {PATIENTS:,} patients, {observed:,} observations, 8 models")
    for label, value in (("clinic-wide (cold)", cold), ("clinic-wide (re-run)", warm)):
        projected = value * CLINIC_TARGET_PATIENTS / PATIENTS
        verdict = "ok" if projected < CLINIC_TARGET_S else "MISSED"
        print(f"{label:<21}{value:6.1f} s, {PATIENTS / value:,.0f} patients/s; at {CLINIC_TARGET_PATIENTS:,} "
              f"patients about {projected:.0f} s   {verdict} (< {CLINIC_TARGET_S:.0f} s)")
    print(f"per patient          p95 {cuts[94]:.1f} ms   "
          f"{'ok' if cuts[94] < PATIENT_TARGET_MS else 'MISSED'} (< {PATIENT_TARGET_MS:.0f} ms); p50 {cuts[49]:.1f} ms "
          f"(the {len(affected)} models reading a systolic pressure, as the event path runs them)")
    print(f"  every model        p95 {every[94]:.1f} ms; p50 {every[49]:.1f} ms")


if __name__ == "__main__":
    main()
