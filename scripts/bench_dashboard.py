"""`make bench-dashboard`: the clinic dashboard at 200,000 patients.

In its own database (careloop_bench_dashboard, dropped and recreated) this
script
1. seeds one clinic in set-based INSERT ... SELECT statements as the owner
   role (the tenant set, so row-level security holds): BENCH_PATIENTS cards
   opened over three years, a year of bookings (about 300 a day) and a month
   ahead, follow-up tasks of ten health managers over two years with their
   contact records, exam results (25 indicators an exam, an exam a patient
   every other year, some abnormal), tags (about 1.4 a patient by rule, 0.1 by hand) and
   messages (about 1,500 a day, some failed). Identifiers are placeholders:
   the dashboard never reads them;
2. times, through the Flask test client as the clinic's owner and the app
   role, BENCH_RUNS times after a warm-up: the dashboard page (GET
   /dashboard: its headline and the figures drawn with it) and each figure
   it loads on its own (GET /dashboard/figures/<figure>, as htmx asks), for
   the default range (twelve weeks) and for a year; then each figure's
   statements alone, and each under EXPLAIN (ANALYZE, BUFFERS);
3. prints p50/p95 of the page and of each figure against the 500 ms target,
   each figure's statements (time in Python, server time, buffers), and the
   plan of the slowest figure's slowest statement over a year.
A benchmark, not a test: a missed target is reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, BENCH_PATIENTS, BENCH_RUNS; BENCH_REUSE=1 times
the database a previous run seeded (migrated to the head first) instead of seeding again.
"""
import os
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import benchdb  # scripts/benchdb.py, beside this script
import psycopg
from flask_migrate import upgrade
from sqlalchemy import event
from sqlalchemy.engine import make_url

from app import create_app
from app.auth import services as staff
from app.booking import services as booking
from app.core import clock
from app.dashboard import queries, services
from app.records import services as records
from tenants.context import tenant_context
from tenants.db import db
from tenants.ids import new_id
from tenants.services import create_tenant

APP_URL, OWNER_URL = benchdb.urls("careloop_bench_dashboard")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "200000"))
RUNS, WARMUP, TARGET_MS = int(os.environ.get("BENCH_RUNS", "40")), 3, 500.0
DATA_KEY, SECRET_KEY = "careloop bench data key", "careloop-bench-secret-key-0123456789abcdef"
SLUG, PASSWORD = "benchdash", "bench-password-123"
OWNER_EMAIL = f"owner@{SLUG}.example.cn"
MANAGERS = 10
HOST = f"http://{SLUG}.localhost"
ROOT = Path(__file__).resolve().parent.parent


def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": DATA_KEY, "SECRET_KEY": SECRET_KEY,
                       "REDIS_URL": None, "WTF_CSRF_ENABLED": False})


# ------------------------------------------------------------------ seeding

def setup_clinic(app) -> dict:
    """The clinic, its owner, health managers, packages and the ids the SQL seeding needs."""
    with app.app_context():
        upgrade()
        tenant = create_tenant(SLUG, "Bench dashboard clinic", admin_email=OWNER_EMAIL, admin_password=PASSWORD)
        with tenant_context(tenant.id):
            managers = [staff.add_staff(f"hm{n}@{SLUG}.example.cn", f"健管师{n}", "health_manager", PASSWORD).id
                        for n in range(MANAGERS)]
            packages = [booking.save_package(booking.PackageData(name=name, price=price, items="血常规")).id
                        for name, price in (("入职体检", "199"), ("标准体检", "599"), ("心脑血管套餐", "1280"),
                                            ("女性专项", "899"), ("老年体检", "799"))]
            indicators = [i.id for i in records.catalogue.all_indicators()][:25]
            db.session.commit()
            today = clock.today()
        return {"tenant": tenant.id, "prefix": tenant.card_prefix, "managers": managers, "packages": packages,
                "indicators": indicators, "today": today}


def reuse_clinic(app) -> dict:
    with app.app_context():
        upgrade()
        with psycopg.connect(benchdb.libpq(OWNER_URL)) as conn:
            row = conn.execute("SELECT id FROM tenants WHERE slug = %s", [SLUG]).fetchone()
        if row is None:
            sys.exit("BENCH_REUSE=1 but the database has no bench clinic: run once without it")
        with tenant_context(row[0]):
            return {"tenant": row[0], "today": clock.today()}


def _seed_statements(c: dict) -> list[tuple[str, str, dict]]:
    """(what, SQL, parameters) in order; every row carries the clinic's id. A modulo is written `%%`
    (psycopg's placeholders are %(name)s)."""
    t, n = c["tenant"], PATIENTS
    base = {"t": t, "n": n, "today": c["today"], "managers": c["managers"], "packages": c["packages"],
            "indicators": c["indicators"]}
    ids = {name: new_id() for name in ("p", "o", "k", "r", "x", "g", "m")}
    now = "(%(today)s::date + time '12:00') AT TIME ZONE 'Asia/Shanghai'"
    patient_id = f"{ids['p']} + 1 + floor(random() * %(n)s)::bigint"
    return [
        ("patients", f"""
INSERT INTO patients (tenant_id, id, card_no, name, name_pinyin, sex, birth_date, mobile_enc, mobile_index,
    mobile_last4, preferred_locale, source_channel, consent_version, consent_at, smoking, alcohol, exercise,
    self_registered, archived_at, created_at, updated_at)
SELECT %(t)s, {ids['p']} + g, %(prefix)s || lpad(g::text, 6, '0'), '患者' || g, 'huanzhe' || g,
    CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END, date '1950-01-01' + (g * 7919 % 20000),
    '\\x00'::bytea, md5('m' || g), lpad((g % 10000)::text, 4, '0'), 'zh_CN', 'walk_in', 'bench', created, '', '', '',
    false, CASE WHEN g % 50 = 0 THEN created + interval '200 days' END, created, created
FROM (SELECT g, {now} - (random() * 1095) * interval '1 day' AS created FROM generate_series(1, %(n)s) g) s""",
         dict(base, prefix=c["prefix"])),
        ("bookings", f"""
INSERT INTO booking_orders (tenant_id, id, order_no, idempotency_key, package_id, package_name, patient_id, day,
    start, "end", status, price_fen, payment_provider, payment_ref, paid_at, checked_in_at, created_at, updated_at)
SELECT %(t)s, {ids['o']} + g, 'B' || g, 'bench-' || g, p.id, p.name, {patient_id}, day, time '07:30', time '08:30',
    CASE WHEN day >= %(today)s THEN (ARRAY['confirmed', 'paid', 'pay_at_clinic'])[1 + g % 3]
         WHEN r < 0.08 THEN 'no_show' WHEN r < 0.13 THEN 'cancelled' WHEN r < 0.15 THEN 'refunded'
         ELSE 'completed' END,
    p.price_fen, 'pay_at_clinic', '',
    CASE WHEN day < %(today)s AND r >= 0.13 OR g % 3 = 1 THEN (day - 3 + time '10:00') AT TIME ZONE 'Asia/Shanghai' END,
    NULL, (day - 10 + time '09:00') AT TIME ZONE 'Asia/Shanghai', (day - 10 + time '09:00') AT TIME ZONE 'Asia/Shanghai'
FROM (SELECT g, %(today)s::date - 365 + (g % 396) AS day, random() AS r,
             (%(packages)s::bigint[])[1 + g % 5] AS package_id FROM generate_series(1, 396 * 300) g) s
JOIN exam_packages p ON p.tenant_id = %(t)s AND p.id = s.package_id
ON CONFLICT DO NOTHING""", base),
        ("follow-up tasks", f"""
INSERT INTO followup_tasks (tenant_id, id, patient_id, assignee_id, due_date, channel, status, failed_attempts,
    max_attempts, cancel_reason, completed_at, created_at, version)
SELECT %(t)s, {ids['k']} + g, {patient_id}, (%(managers)s::bigint[])[1 + g % {MANAGERS}], due, 'phone',
    CASE WHEN due >= %(today)s THEN 'pending' WHEN r < 0.8 THEN 'done' WHEN r < 0.9 THEN 'pending'
         ELSE 'cancelled' END,
    (r * 3)::int % 3, 3, '',
    CASE WHEN due < %(today)s AND r < 0.8 THEN (due + time '15:00') AT TIME ZONE 'Asia/Shanghai' END,
    (due - 30 + time '09:00') AT TIME ZONE 'Asia/Shanghai', 1
FROM (SELECT g, %(today)s::date - 730 + (g % 760) AS due, random() AS r FROM generate_series(1, 760 * 500) g) s""",
         base),
        ("contact records", f"""
INSERT INTO followup_records (tenant_id, id, task_id, patient_id, staff_id, result, notes, measures, created_at)
SELECT k.tenant_id, {ids['r']} + row_number() OVER (), k.id, k.patient_id, k.assignee_id,
    CASE WHEN k.status = 'done' THEN 'reached' ELSE (ARRAY['no_answer', 'wrong_number', 'refused'])[1 + k.id % 3] END,
    '', '{{}}', (k.due_date + time '14:00') AT TIME ZONE 'Asia/Shanghai'
FROM followup_tasks k WHERE k.tenant_id = %(t)s AND k.due_date < %(today)s AND k.status <> 'cancelled'""", base),
        ("exam results", f"""
INSERT INTO observations (tenant_id, id, patient_id, indicator_id, observed_at, value, value_text, reported_unit,
    ref_text, flag, flag_source, status, origin, fingerprint, created_at)
SELECT %(t)s, {ids['x']} + e.g * 32 + i.n, e.patient_id, i.id, e.at, round((random() * 10)::numeric, 2)::float,
    '', '', '',
    CASE WHEN random() < (i.n % 10) * 0.03 THEN (ARRAY['H', 'L', 'H', 'A'])[1 + (e.g + i.n) % 4] ELSE 'N' END,
    'range', 'final', 'import', md5('x' || e.g || '-' || i.n), e.at
FROM (SELECT g, {ids['p']} + 1 + (g * 2654435761 % %(n)s) AS patient_id,
             {now} - (g % 730) * interval '1 day' AS at FROM generate_series(1, %(n)s / 2) g) e
CROSS JOIN unnest(%(indicators)s::bigint[]) WITH ORDINALITY AS i(id, n)""", base),
        ("tags", f"""
INSERT INTO tags (tenant_id, id, name, name_en, colour, created_at)
SELECT %(t)s, {ids['g']} + g, '标签' || g, 'Tag ' || g, 'teal', {now} FROM generate_series(1, 20) g""", base),
        ("tag rules", f"""
INSERT INTO tag_rules (tenant_id, id, name, tag_id, condition, active, pack_key, source, version, created_at,
    updated_at)
SELECT %(t)s, {ids['g']} + 100 + g, '规则' || g, {ids['g']} + g, '{{}}', true, '', '', 1, {now}, {now}
FROM generate_series(1, 20) g""", base),
        ("tags by rule", f"""
INSERT INTO patient_tags (tenant_id, rule_id, patient_id, tag_id, rule_version, evidence, applied_at, updated_at)
SELECT %(t)s, {ids['g']} + 100 + tag, {patient_id}, {ids['g']} + tag, 1, '{{}}', {now}, {now}
FROM (SELECT g, 1 + floor(power(random(), 2) * 20)::bigint AS tag FROM generate_series(1, %(n)s * 7 / 5) g) s
ON CONFLICT DO NOTHING""", base),
        ("tags by hand", f"""
INSERT INTO patient_manual_tags (tenant_id, patient_id, tag_id, note, applied_by, applied_at)
SELECT %(t)s, {patient_id}, {ids['g']} + 1 + floor(power(random(), 2) * 20)::bigint, '', NULL, {now}
FROM generate_series(1, %(n)s / 10) g
ON CONFLICT DO NOTHING""", base),
        ("messages", f"""
INSERT INTO notifications (tenant_id, id, idempotency_key, recipient_type, recipient_id, channel, address_masked,
    template_key, locale, category, at_once, thread_key, subject, body_text, provider_params, scheduled_at, status,
    stage, attempts, last_error, provider_id, created_at)
SELECT %(t)s, {ids['m']} + g, 'bench-' || g, 'patient', {patient_id},
    (ARRAY['sms', 'sms', 'inapp', 'email'])[1 + g % 4],
    '', 'booking_confirmation', 'zh_CN', 'care', false, '', '', '', '{{}}', at,
    CASE WHEN g % 25 = 0 THEN 'failed' WHEN g % 97 = 0 THEN 'pending' ELSE 'sent' END, '', 1, '', '', at
FROM (SELECT g, {now} - (g % 365) * interval '1 day' AS at FROM generate_series(1, 365 * 1500) g) s""", base),
    ]


def seed(app, clinic: dict) -> float:
    started = time.perf_counter()
    with psycopg.connect(benchdb.libpq(OWNER_URL)) as conn:
        for what, sql, params in _seed_statements(clinic):
            sql = sql.replace(" % ", " %% ")
            step = time.perf_counter()
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(clinic["tenant"])])
            count = conn.execute(sql, params).rowcount
            conn.commit()
            print(f"  {what:<16}{count:>10,} rows {time.perf_counter() - step:6.1f} s")
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) patients, booking_orders, followup_tasks, followup_records, observations, "
                     "tags, patient_manual_tags, patient_tags, notifications")
    return time.perf_counter() - started


# ------------------------------------------------------------------ timing

def percentiles(timings: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return cuts[49], cuts[94]


def signed_in_client(app):
    client = app.test_client()
    page = client.get("/login", base_url=HOST).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = client.post("/login", data={"email": OWNER_EMAIL, "password": PASSWORD,
                                           "csrf_token": token.group(1) if token else ""}, base_url=HOST)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in answered {response.status_code}")
    return client


def time_requests(app, span: queries.Range) -> dict[str, list[float]]:
    """ms of each run of the page and of each figure it loads on its own (as htmx asks for it), in turns:
    run i of every address, then run i + 1, so a busy moment of the machine touches them alike."""
    client = signed_in_client(app)
    query = f"from={span.since.isoformat()}&to={span.until.isoformat()}"
    addresses = {"page": (f"/dashboard?{query}", {})}
    addresses |= {key: (f"/dashboard/figures/{key}?{query}", {"HX-Request": "true"})
                  for key in services.KEYS if key not in services.DRAWN}
    timings: dict[str, list[float]] = {name: [] for name in addresses}
    for i in range(WARMUP + RUNS):
        for name, (path, headers) in addresses.items():
            started = time.perf_counter()
            response = client.get(path, base_url=HOST, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or "<svg" not in response.get_data(as_text=True):
                raise RuntimeError(f"GET {path} answered {response.status_code}")
            if i >= WARMUP:
                timings[name].append(elapsed)
    timings["page and all its figures, one after another"] = [sum(run) for run in zip(*timings.values())]
    return timings


# each figure's statements, as the figure (or its export) runs them
STATEMENTS = {
    "patients": lambda span, today: queries.patients(span),
    "bookings": lambda span, today: queries.bookings(span, today),
    "followups": lambda span, today: queries.followups(span, today),
    "abnormal": lambda span, today: queries.abnormal(span),
    "tags": lambda span, today: queries.tags(queries.active_patients()),
    "messages": lambda span, today: queries.messages(span),
    "sales": lambda span, today: queries.sales(span),
}


def time_statements(app, tenant_id: int, span: queries.Range) -> dict[str, tuple[float, float, list]]:
    """p50/p95 ms of each figure's statements alone, with the SQL of its last run."""
    results = {}
    with app.app_context(), tenant_context(tenant_id):
        today = clock.today()
        for name, run in STATEMENTS.items():
            timings, captured = [], []

            def capture(conn, cursor, statement, parameters, context, executemany, into=captured):
                if "set_config" not in statement:
                    into.append((statement, parameters))

            for i in range(WARMUP + 15):
                captured.clear()
                event.listen(db.engine, "before_cursor_execute", capture)
                started = time.perf_counter()
                run(span, today)
                elapsed = (time.perf_counter() - started) * 1000
                event.remove(db.engine, "before_cursor_execute", capture)
                db.session.rollback()
                if i >= WARMUP:
                    timings.append(elapsed)
            results[name] = (*percentiles(timings), list(captured))
    return results


def explain(app, tenant_id: int, statement: str, parameters) -> list[str]:
    with app.app_context(), tenant_context(tenant_id):
        db.session.connection()  # the tenant is set for the transaction
        plan = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        lines = [line for (line,) in plan]
        db.session.rollback()
    return lines


def explained(app, tenant_id: int, statements: list) -> tuple[float, int, int, list[str]]:
    """The statements of one figure under EXPLAIN (ANALYZE, BUFFERS) as the app role: their execution time
    in the server (ms), shared buffers hit and read, and the plan of the slowest."""
    total, hit, read, slowest = 0.0, 0, 0, (-1.0, [])
    for statement, parameters in statements:
        plan = explain(app, tenant_id, statement, parameters)
        ms = float(re.search(r"Execution Time: ([\d.]+)", plan[-1]).group(1))
        top = next((line for line in plan if "Buffers:" in line), "")
        hit += int(m.group(1)) if (m := re.search(r"hit=(\d+)", top)) else 0
        read += int(m.group(1)) if (m := re.search(r"read=(\d+)", top)) else 0
        total += ms
        slowest = max(slowest, (ms, plan), key=lambda t: t[0])
    return total, hit, read, slowest[1]


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    timed = Path(sys.modules["app"].__file__ or "").resolve().parent.parent
    if timed != ROOT:  # the environment's editable install points at another checkout
        print(f"timing the code in {timed}, not {ROOT}: run with PYTHONPATH={ROOT} to time this checkout")
    if os.environ.get("BENCH_REUSE") == "1":
        app, seconds = make_app(), 0.0
        clinic = reuse_clinic(app)
        print(f"database {make_url(OWNER_URL).database}: reusing the clinic a previous run seeded")
    else:
        print(f"database {make_url(OWNER_URL).database}: recreating and migrating")
        benchdb.recreate(OWNER_URL, APP_URL)
        app = make_app()
        clinic = setup_clinic(app)
        print(f"seeding a clinic of {PATIENTS:,} patients")
        seconds = seed(app, clinic)
        print(f"seeded in {seconds:.1f} s")
    today: date = clinic["today"]
    spans = {"12 weeks": queries.default_range(today), "one year": queries.Range(today - timedelta(days=364), today)}
    requests, statements, plans = {}, {}, {}
    for label, span in spans.items():
        print(f"timing {label} ({span.since} to {span.until}): {RUNS} runs of each address after {WARMUP}")
        requests[label] = {name: percentiles(t) for name, t in time_requests(app, span).items()}
        statements[label] = time_statements(app, clinic["tenant"], span)
        plans[label] = {name: explained(app, clinic["tenant"], captured)
                        for name, (_p50, _p95, captured) in statements[label].items()}
    label = "one year"
    slowest = max(plans[label], key=lambda name: plans[label][name][0])
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the slowest figure over {label} ({slowest}) "
          f"as {make_url(APP_URL).username}:")
    print("\n".join(plans[label][slowest][3]))

    print("\n==== summary " + "=" * 60)
    print(f"seeding              {PATIENTS:,} patients and their year in {seconds:.1f} s")
    for label in spans:
        print(f"\n{label}: requests (ms, through the app as the clinic's owner; target p95 < {TARGET_MS:.0f} ms "
              "for the page and for each figure)")
        for name, (p50, p95) in requests[label].items():
            verdict = "" if name.startswith("page and") else ("ok" if p95 < TARGET_MS else "MISSED")
            print(f"  {name:<46} p50 {p50:6.0f}  p95 {p95:6.0f}  {verdict}")
        print(f"{label}: each figure's statements (ms in Python: p50, p95; EXPLAIN ANALYZE: server time, "
              "shared buffers hit/read)")
        for name, (p50, p95, captured) in statements[label].items():
            server, hit, read, _plan = plans[label][name]
            print(f"  {name:<12} {len(captured)} statements  p50 {p50:6.1f}  p95 {p95:6.1f}  "
                  f"server {server:6.1f}  buffers {hit:>6}/{read}")


if __name__ == "__main__":
    main()
