"""Tag rules at scale: the 10 pack rules over 200,000 patients with 3 million
observations on PostgreSQL, clinic-wide (target under 30 s) and one patient
after an import (target p95 under 50 ms).

In its own database (careloop_bench_tagging, dropped and recreated) this script
1. migrates and creates one clinic (which installs the rule pack and the
   follow-up plans) with 25 health managers;
2. seeds, as the owner role with INSERT ... SELECT generate_series (no ORM),
   200,000 patients and 15 results each on average (12 pack indicators, a
   second checkup for a quarter of the patients): 3,000,000 observations,
   with values spread around the clinical thresholds;
3. as the application role (row-level security on) times
   ``services.evaluate_rules()`` from no tags at all (which also enrols every
   newly tagged patient in the pack's tag-started follow-up plans and creates
   their tasks), then again with the tags in place (the re-evaluation after a
   rule change), then
   ``services.evaluate_patient()`` for 300 patients each just given a new
   checkup (p50/p95), and prints the plan of the slowest pack rule.
A benchmark, not a test: missed targets are reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, BENCH_PATIENTS, BENCH_REDIS_URL.
"""
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

import benchdb  # scripts/benchdb.py, beside this script
import psycopg
from sqlalchemy import Boolean, DateTime, Integer, LargeBinary, String, Text, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.auth import services as staff
from app.followups.models import FollowupTask, PlanEnrolment
from app.patients.models import Patient
from app.records.models import Indicator, Observation
from app.tagging import evaluation, services
from app.tagging.models import PatientTag, TagRule
from tenants.context import tenant_context
from tenants.db import db

APP_URL, OWNER_URL = benchdb.urls("careloop_bench_tagging")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "200000"))
HEALTH_MANAGERS = 25
SLUG = "bench"
CLINIC_TARGET_S, PATIENT_TARGET_MS, PATIENT_SAMPLE = 30.0, 50.0, 300

# code -> (mean, spread): roughly a check-up population, so every rule tags someone
VALUES = {
    "8480-6": (128, 18), "8462-4": (80, 11), "39156-5": (24.0, 3.5), "8280-0": (84, 10),
    "14771-0": (5.6, 0.9), "4548-4": (5.7, 0.7), "14647-2": (5.0, 0.9), "22748-8": (3.0, 0.8),
    "14646-4": (1.3, 0.3), "14927-8": (1.6, 0.8), "14933-6": (360, 80), "98979-8": (92, 18),
}




def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": "careloop bench data key",
                       "SECRET_KEY": "careloop-bench-secret-key-0123456789abcdef", "REDIS_URL": REDIS_URL})


# ------------------------------------------------------------------ seeding

def _filler(column) -> str:
    """SQL for a NOT NULL patients column this script does not set itself."""
    kind = type(column.type)
    if issubclass(kind, (String, Text)):
        return "''"
    if issubclass(kind, Boolean):
        return "false"
    if issubclass(kind, Integer):
        return "0"
    if issubclass(kind, DateTime):
        return "now()"
    if issubclass(kind, LargeBinary):
        return "'\\x00'::bytea"
    raise SystemExit(f"bench: no filler for NOT NULL column patients.{column.name} ({kind.__name__})")


def patients_sql(tenant_id: int, base_id: int, prefix: str) -> str:
    chosen = {
        "tenant_id": str(tenant_id), "id": f"{base_id} + g", "card_no": f"'{prefix}' || lpad(g::text, 7, '0')",
        "name": "'患者' || g", "name_pinyin": "'huanzhe' || g", "sex": "CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END",
        "birth_date": "date '1940-01-01' + (g * 7919 % 25000)", "mobile_enc": "'\\x00'::bytea",
        "mobile_index": "md5('m' || g)", "mobile_last4": "lpad((g % 10000)::text, 4, '0')",
        "consent_version": "'bench'", "consent_at": "now()", "created_at": "now()", "updated_at": "now()",
    }
    columns, values = [], []
    for column in Patient.__table__.columns:
        if column.name in chosen:
            columns.append(column.name)
            values.append(chosen[column.name])
        elif not column.nullable:
            columns.append(column.name)
            values.append(_filler(column))
    return (f"INSERT INTO patients ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM generate_series(1, {PATIENTS}) g")


def observations_sql(tenant_id: int, base_id: int, indicators: dict[str, int]) -> str:
    """12 results per checkup; every 4th patient has a second, earlier checkup.
    A value is mean + spread x (sum of three uniforms - 1.5) x 2, roughly normal."""
    rows = ", ".join(f"({k}, {indicators[code]}, {mean}, {spread})"
                     for k, (code, (mean, spread)) in enumerate(VALUES.items()))
    return f"""
        INSERT INTO observations (tenant_id, id, patient_id, indicator_id, observed_at, value, value_text,
                                  reported_unit, ref_text, flag, flag_source, status, origin, fingerprint, created_at)
        SELECT {tenant_id}, {base_id} + g * 64 + c * 16 + k, {base_id} + g,
               i, now() - make_interval(days => c * 365 - 300 + (g % 200)),
               round((m + s * (random() + random() + random() - 1.5) * 2)::numeric, 2)::float8,
               '', '', '', '', '', 'final', 'import', md5(g || '-' || c || '-' || k), now()
        FROM generate_series(1, {PATIENTS}) g
        CROSS JOIN generate_series(1, 2) c
        CROSS JOIN (VALUES {rows}) AS ind(k, i, m, s)
        WHERE c = 1 OR g % 4 = 0"""


def seed(tenant_id: int, prefix: str, indicators: dict[str, int]) -> float:
    started = time.perf_counter()
    base = 10**15  # below every new_id() of today (about 3.8e17): no clash with ids the app makes
    with psycopg.connect(benchdb.libpq(OWNER_URL)) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])  # FORCE RLS binds the owner too
        conn.execute("SELECT setseed(0.2026)")
        conn.execute(patients_sql(tenant_id, base, prefix))
        print(f"  {PATIENTS:,} patients {time.perf_counter() - started:6.1f} s")
        count = conn.execute(observations_sql(tenant_id, base, indicators)).rowcount
        print(f"  {count:,} observations {time.perf_counter() - started:6.1f} s")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) patients, observations")
    print(f"  vacuumed {time.perf_counter() - started:6.1f} s")
    return time.perf_counter() - started


# -------------------------------------------------------------- measuring

def clinic_wide(app, tenant_id: int, label: str) -> tuple[float, list]:
    with app.app_context(), tenant_context(tenant_id):
        started = time.perf_counter()
        runs = services.evaluate_rules(None, commit=True)
        seconds = time.perf_counter() - started
        names = {r.id: r.name for r in db.session.scalars(select(TagRule))}
        total = db.session.scalar(select(func.count()).select_from(PatientTag))
        enrolled = db.session.scalar(select(func.count()).select_from(PlanEnrolment))
        tasks = db.session.scalar(select(func.count()).select_from(FollowupTask))
    print(f"\n{label}: {seconds:.1f} s, {total:,} automatic tags; the pack's tag-started follow-up plans "
          f"now hold {enrolled:,} enrolments and {tasks:,} tasks")
    for run in runs:
        print(f"  {names[run.rule_id]:<10} {run.matched:>8,} patients  +{run.added:<8,} -{run.removed:,}")
    return seconds, runs


def per_patient(app, tenant_id: int, base: int, indicators: dict[str, int]) -> list[float]:
    """A new checkup for a random patient (as an import would store it), then
    the timed evaluation and commit, one patient at a time."""
    rng = random.Random(7)
    timings = []
    insert = text("INSERT INTO observations (tenant_id, id, patient_id, indicator_id, observed_at, value, "
                  "value_text, reported_unit, ref_text, flag, flag_source, status, origin, fingerprint, created_at) "
                  "VALUES (:t, :id, :p, :i, :at, :v, '', '', '', '', '', 'final', 'import', :fp, now())")
    with app.app_context(), tenant_context(tenant_id):
        for n in range(PATIENT_SAMPLE + 20):
            patient_id = base + rng.randrange(1, PATIENTS + 1)
            at = datetime.now(timezone.utc) - timedelta(minutes=n)
            for k, (code, (mean, spread)) in enumerate(VALUES.items()):
                value = round(mean + spread * rng.gauss(0, 1), 2)
                db.session.execute(insert, {"t": tenant_id, "id": 9 * 10**17 + n * 64 + k, "p": patient_id,
                                            "i": indicators[code], "at": at, "v": value, "fp": f"bench-{n}-{k}"})
            db.session.commit()
            started = time.perf_counter()
            services.evaluate_patient(patient_id)
            db.session.commit()
            if n >= 20:  # warm-up
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def explain_rule(app, tenant_id: int, pack_key: str) -> str:
    with app.app_context(), tenant_context(tenant_id):
        rule = db.session.scalar(select(TagRule).where(TagRule.pack_key == pack_key))
        statement = evaluation.compiler(evaluation.indicators_by_code()).matches(rule.condition)
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled))).scalars().all()
        db.session.rollback()
    return "\n".join(plan)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    print(f"database {make_url(OWNER_URL).database}: recreating and migrating")
    benchdb.recreate(OWNER_URL, APP_URL)
    app = make_app()
    with app.app_context():
        tenant = benchdb.new_clinic(SLUG)
        tenant_id, prefix = tenant.id, tenant.card_prefix
        with tenant_context(tenant_id):
            for n in range(HEALTH_MANAGERS):  # follow-up tasks go to the least busy of them
                staff.add_staff(f"hm{n}@{SLUG}.example.cn", f"健管师{n}", "health_manager", "bench-password-123")
            db.session.commit()
            indicators = dict(db.session.execute(select(Indicator.code, Indicator.id)).all())
            rule_count = db.session.scalar(select(func.count()).select_from(TagRule))
    print(f"clinic {SLUG!r} with {rule_count} pack rules and {HEALTH_MANAGERS} health managers; "
          f"seeding {PATIENTS:,} patients")
    seconds = seed(tenant_id, prefix, indicators)
    with app.app_context(), tenant_context(tenant_id):
        observed = db.session.scalar(select(func.count()).select_from(Observation))
    print(f"seeded in {seconds:.1f} s; {observed:,} observations visible to the app role")

    cold, _ = clinic_wide(app, tenant_id, "clinic-wide, from no tags")
    warm, _ = clinic_wide(app, tenant_id, "clinic-wide re-evaluation, tags in place")
    timings = per_patient(app, tenant_id, 10**15, indicators)
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    print(f"\nper patient after a new checkup ({len(timings)} patients): p50 {cuts[49]:.1f} ms, "
          f"p95 {cuts[94]:.1f} ms, max {max(timings):.1f} ms")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the dyslipidaemia rule's SELECT (four indicators), as the app role:")
    print(explain_rule(app, tenant_id, "dyslipidaemia"))

    print("\n==== summary " + "=" * 60)
    print(f"data                 {PATIENTS:,} patients, {observed:,} observations, {rule_count} rules")
    for label, value in (("clinic-wide (cold)", cold), ("clinic-wide (re-run)", warm)):
        verdict = "ok" if value < CLINIC_TARGET_S else "MISSED"
        print(f"{label:<21}{value:6.1f} s   {verdict} (< {CLINIC_TARGET_S:.0f} s)")
    print(f"per patient          p95 {cuts[94]:.1f} ms   "
          f"{'ok' if cuts[94] < PATIENT_TARGET_MS else 'MISSED'} (< {PATIENT_TARGET_MS:.0f} ms); p50 {cuts[49]:.1f} ms")


if __name__ == "__main__":
    main()
