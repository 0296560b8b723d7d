"""`make bench`: patient search and the patient list at 200,000 patients.

In its own database (careloop_bench, dropped and recreated) this script
1. seeds one clinic with 200,000 patients, the rows built with the same field
   logic as services.enrol and written with COPY as the owner role;
2. times services.search as the app role (row-level security on): p50/p95 of
   name fragments, full pinyin, initials, card numbers and mobile last four,
   and prints EXPLAIN (ANALYZE, BUFFERS) of one initials search;
3. starts gunicorn -w 2 and measures requests/second of the signed-in
   GET /patients against the bare GET /healthz.
A benchmark, not a test: missed targets are reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, BENCH_PATIENTS.
"""
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from functools import lru_cache
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from app import create_app
from app.core import crypto
from app.patients import services
from app.patients.models import Patient, PatientSearchTerm
from app.patients.search_terms import name_readings, primary_pinyin, terms_for
from app.seed import make_patient
from tenants.context import tenant_context
from tenants.db import db
from tenants.ids import new_id
from tenants.models import utcnow
from tenants.services import create_tenant

ROOT = Path(__file__).resolve().parent.parent
APP_URL = os.environ.get("BENCH_DATABASE_URL",
                         "postgresql+psycopg://careloop_app:careloop@127.0.0.1:5432/careloop_bench")
OWNER_URL = os.environ.get("BENCH_DATABASE_OWNER_URL",
                           "postgresql+psycopg://careloop_owner:careloop@127.0.0.1:5432/careloop_bench")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "200000"))
DATA_KEY, SECRET_KEY = "careloop bench data key", "careloop-bench-secret-key-0123456789abcdef"
SLUG, PASSWORD = "bench", "bench-password-123"
BATCH, QUERIES, WARMUP, TARGET_MS = 5_000, 300, 30, 20.0
CLIENTS, LOAD_SECONDS = 4, 10.0


def libpq(url: str, database: str | None = None) -> str:
    """A SQLAlchemy URL as a plain libpq one, optionally for another database."""
    parsed = make_url(url).set(drivername="postgresql")
    return (parsed.set(database=database) if database else parsed).render_as_string(hide_password=False)


# ----------------------------------------------------------------- database

def recreate_database() -> None:
    name = make_url(OWNER_URL).database
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(libpq(OWNER_URL, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    app_role = make_url(APP_URL).username
    with psycopg.connect(libpq(OWNER_URL), autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute(f'GRANT USAGE ON SCHEMA public TO "{app_role}"')


def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": DATA_KEY, "SECRET_KEY": SECRET_KEY,
                       "REDIS_URL": None})


# ------------------------------------------------------------------ seeding

@lru_cache(maxsize=None)
def name_fields(name: str) -> tuple[str, frozenset[str]]:
    """Pinyin and the name's own search terms; names repeat, so cached."""
    return primary_pinyin(name), frozenset(terms_for(name, "", ""))


def patient_row(tenant_id: int, card_no: str, data: services.PatientData, consent: str) -> tuple[dict, set]:
    """The row and search terms services.enrol writes for ``data``."""
    data = services.validate(data)
    pinyin, name_terms = name_fields(data.name)
    now = utcnow()
    row = {
        "tenant_id": tenant_id, "id": new_id(), "card_no": card_no, "name": data.name, "name_pinyin": pinyin,
        "sex": data.sex, "birth_date": data.birth_date, "mobile_last4": data.mobile[-4:],
        "mobile_enc": crypto.encrypt(data.mobile, tenant_id),
        "mobile_index": crypto.blind_index(data.mobile, tenant_id, services.MOBILE_PURPOSE),
        "id_number_enc": crypto.encrypt(data.id_number, tenant_id) if data.id_number else None,
        "id_number_index": (crypto.blind_index(data.id_number, tenant_id, services.ID_PURPOSE)
                            if data.id_number else None),
        "address": data.address.strip(), "emergency_name": data.emergency_name.strip(),
        "emergency_phone": data.emergency_phone, "source_channel": data.source_channel,
        "consent_version": consent, "consent_at": now, "smoking": "", "alcohol": "", "exercise": "",
        "archived_at": None, "enrolled_by": None, "created_at": now, "updated_at": now,
    }
    # terms_for is a union of name terms and card/mobile terms; only the first part is cached
    return row, set(name_terms) | terms_for("", card_no, row["mobile_last4"])


def check_row_builder(app) -> None:
    """Enrol one patient through the service (in a throwaway clinic) and
    compare its stored row and terms with what patient_row builds."""
    data = make_patient(random.Random("check"))
    tenant = create_tenant("bench-check", "Bench check")
    with tenant_context(tenant.id):
        enrolled = services.enrol(services.PatientData(**vars(data)), consent_version="check")
        db.session.commit()
        stored = {c.name: getattr(enrolled, c.name) for c in Patient.__table__.columns}
        stored_terms = set(db.session.scalars(select(PatientSearchTerm.term)
                                              .where(PatientSearchTerm.patient_id == enrolled.id)))
        built, built_terms = patient_row(tenant.id, enrolled.card_no, data, "check")
    for column in ("mobile_enc", "id_number_enc"):
        stored[column], built[column] = (crypto.decrypt(v[column], tenant.id) for v in (stored, built))
    different = sorted(k for k in stored if k not in ("id", "consent_at", "created_at", "updated_at")
                       and stored[k] != built[k])
    if different or stored_terms != built_terms:
        sys.exit(f"bulk rows differ from services.enrol: columns {different}, "
                 f"terms {sorted(stored_terms ^ built_terms)}")
    print(f"row builder matches services.enrol ({len(stored_terms)} search terms for {data.name})")


def write_batch(conn, tenant_id: int, patients: list[dict], terms: list[tuple]) -> None:
    columns = [c.name for c in Patient.__table__.columns]
    # COPY FROM refuses tables under FORCE ROW LEVEL SECURITY: stage, then INSERT
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
    with conn.cursor().copy(f"COPY stage_patients ({', '.join(columns)}) FROM STDIN") as copy:
        for row in patients:
            copy.write_row([row[c] for c in columns])
    with conn.cursor().copy("COPY stage_terms (tenant_id, term, patient_id) FROM STDIN") as copy:
        for row in terms:
            copy.write_row(row)
    conn.execute("INSERT INTO patients SELECT * FROM stage_patients")
    conn.execute("INSERT INTO patient_search_terms (tenant_id, term, patient_id) "
                 "SELECT tenant_id, term, patient_id FROM stage_terms")
    conn.commit()


def seed(app, tenant_id: int, prefix: str) -> tuple[list[dict], float]:
    """Seed PATIENTS patients; return the searchable fields of each and the seconds taken."""
    rng, started, seen_ids, sample = random.Random(20260101), time.perf_counter(), set(), []
    consent, term_rows = app.config["CONSENT_VERSION"], 0
    with app.app_context(), psycopg.connect(libpq(OWNER_URL)) as conn:
        conn.execute("CREATE TEMP TABLE stage_patients (LIKE patients) ON COMMIT DELETE ROWS")
        conn.execute("CREATE TEMP TABLE stage_terms (LIKE patient_search_terms) ON COMMIT DELETE ROWS")
        for first in range(1, PATIENTS + 1, BATCH):
            patients, terms = [], []
            for seq in range(first, min(first + BATCH, PATIENTS + 1)):
                row, row_terms = patient_row(tenant_id, f"{prefix}{seq:06d}", make_patient(rng), consent)
                while row["id_number_index"] and row["id_number_index"] in seen_ids:  # enrol refuses a second card for an ID number
                    row, row_terms = patient_row(tenant_id, f"{prefix}{seq:06d}", make_patient(rng), consent)
                seen_ids.add(row["id_number_index"])
                patients.append(row)
                terms.extend((tenant_id, term, row["id"]) for term in sorted(row_terms))
                sample.append({k: row[k] for k in ("name", "name_pinyin", "card_no", "mobile_last4")})
            write_batch(conn, tenant_id, patients, terms)
            term_rows += len(terms)
            if len(sample) % 25_000 == 0 or len(sample) == PATIENTS:
                print(f"  {len(sample):>7,} patients, {term_rows:>9,} search terms "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        conn.execute("INSERT INTO tenant_counters (tenant_id, name, value) VALUES (%s, 'card', %s) "
                     "ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value", [tenant_id, PATIENTS])
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) patients, patient_search_terms")
    return sample, time.perf_counter() - started


# ------------------------------------------------------------------- search

def initials(name: str) -> str:
    return "".join(s[0] for s in name_readings(name)[0])


QUERY_KINDS = {
    "name fragment": lambda rng, p: rng.choice((p["name"][1:], rng.choice(p["name"][1:]))),
    "full pinyin": lambda rng, p: p["name_pinyin"],
    "initials": lambda rng, p: initials(p["name"]),
    "card number": lambda rng, p: p["card_no"],
    "mobile last 4": lambda rng, p: p["mobile_last4"],
}


def time_searches(rng, sample: list[dict], make_query, count: int) -> tuple[list[float], int, str]:
    """Milliseconds per search, how many found nothing, one example query."""
    timings, empty, query = [], 0, ""
    for _ in range(count):
        query = make_query(rng, rng.choice(sample))
        started = time.perf_counter()
        found = services.search(query).patients
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()  # one transaction per search, as one per request
        empty += not found
    return timings, empty, query


def measure_search(app, tenant_id: int, sample: list[dict]) -> dict:
    rng, results = random.Random(7), {}
    with app.app_context(), tenant_context(tenant_id):
        assert db.session.scalar(select(func.count()).select_from(Patient)) >= PATIENTS  # RLS lets us see them
        for kind, make_query in QUERY_KINDS.items():
            time_searches(rng, sample, make_query, WARMUP)
            timings, empty, example = time_searches(rng, sample, make_query, QUERIES)
            cuts = statistics.quantiles(timings, n=100, method="inclusive")
            results[kind] = {"p50": cuts[49], "p95": cuts[94], "empty": empty, "example": example}
    print(f"\n{'query':<15}{'example':<14}{'p50 ms':>8}{'p95 ms':>8}{'no hit':>8}  p95 < {TARGET_MS:.0f} ms")
    for kind, r in results.items():
        verdict = "ok" if r["p95"] < TARGET_MS else "MISSED"
        print(f"{kind:<15}{r['example']:<14}{r['p50']:>8.2f}{r['p95']:>8.2f}{r['empty']:>8}  {verdict}")
    return results


def explain_initials(app, tenant_id: int, query: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the exact SQL services.search sends, as the app role."""
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "patient_search_terms" in statement:
            captured.append((statement, parameters))

    with app.app_context(), tenant_context(tenant_id):
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            services.search(query)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        statement, parameters = captured[-1]
        plan = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        text = "\n".join(line for (line,) in plan)
        db.session.rollback()
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of search({query!r}) as {make_url(APP_URL).username}:\n{text}")
    return text


# --------------------------------------------------------------------- http

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, log) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=APP_URL, DATABASE_OWNER_URL=OWNER_URL, CARELOOP_ENV="development",
               DATA_KEY=DATA_KEY, SECRET_KEY=SECRET_KEY)
    env.pop("CARELOOP_EMBEDDED_WORKER", None)
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(proc: subprocess.Popen, port: int, log) -> None:
    for _ in range(150):
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log.name}")
        try:
            if request(port, "localhost", "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 30 s; see {log.name}")


def request(port: int, host: str, method: str, path: str, cookie: str = "", body: dict | None = None,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, str]:
    """One request; on ``conn`` if given (kept for the next), else on a new connection."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": f"{host}:{port}", "Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, urllib.parse.urlencode(body) if body is not None else None, headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        if own:
            conn.close()


def sign_in(port: int, host: str, email: str) -> str:
    """The session cookie of a signed-in owner."""
    status, headers, page = request(port, host, "GET", "/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or not token:
        raise RuntimeError(f"GET /login answered {status} with no CSRF token")
    cookie = SimpleCookie(headers.get("Set-Cookie", ""))
    status, headers, _ = request(port, host, "POST", "/login", f"session={cookie['session'].value}",
                                 {"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    if status != 302:
        raise RuntimeError(f"sign-in answered {status}, not a redirect")
    return f"session={SimpleCookie(headers['Set-Cookie'])['session'].value}"


def requests_per_second(port: int, host: str, path: str, cookie: str = "") -> float:
    """CLIENTS threads, each sending GETs one after another for LOAD_SECONDS."""
    counts, errors, deadline = [0] * CLIENTS, [], time.perf_counter() + LOAD_SECONDS

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.perf_counter() < deadline:
                status = request(port, host, "GET", path, cookie, conn=conn)[0]
                if status != 200:
                    raise RuntimeError(f"status {status}")
                counts[i] += 1
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"GET {path} failed: {errors[0]}")
    return sum(counts) / LOAD_SECONDS


def measure_http(email: str, first_card: str) -> dict:
    port, host = free_port(), f"{SLUG}.localhost"
    with tempfile.NamedTemporaryFile("w", prefix="bench-gunicorn-", suffix=".log", delete=False) as log:
        proc = start_gunicorn(port, log)
        try:
            wait_until_up(proc, port, log)
            cookie = sign_in(port, host, email)
            status, _, page = request(port, host, "GET", "/patients", cookie)
            if status != 200 or first_card not in page:
                raise RuntimeError(f"GET /patients answered {status} without the newest card {first_card}")
            result = {"/patients": requests_per_second(port, host, "/patients", cookie),
                      "/healthz": requests_per_second(port, host, "/healthz")}
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    os.unlink(log.name)
    print(f"\ngunicorn -w 2, {CLIENTS} clients x {LOAD_SECONDS:.0f} s: GET /patients {result['/patients']:.0f} req/s, "
          f"GET /healthz {result['/healthz']:.0f} req/s")
    return result


# --------------------------------------------------------------------- main

def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress interleaves with Alembic's log on stderr
    print(f"database {make_url(OWNER_URL).database}: recreating and migrating", flush=True)
    recreate_database()
    app = make_app()
    with app.app_context():
        upgrade()
        check_row_builder(app)
        tenant = create_tenant(SLUG, "Bench clinic", admin_email=f"owner@{SLUG}.example.cn",
                               admin_password=PASSWORD)
        tenant_id, prefix = tenant.id, tenant.card_prefix
    print(f"seeding {PATIENTS:,} patients into clinic {SLUG!r} (id {tenant_id})", flush=True)
    sample, seconds = seed(app, tenant_id, prefix)
    print(f"seeded in {seconds:.1f} s ({len(sample) / seconds:,.0f} patients/s)")
    searches = measure_search(app, tenant_id, sample)
    two_letters = next(initials(p["name"]) for p in sample if len(p["name"]) == 2)  # the broadest initials
    plan = explain_initials(app, tenant_id, two_letters)
    rates = measure_http(f"owner@{SLUG}.example.cn", sample[-1]["card_no"])

    print("\n==== summary " + "=" * 50)
    print(f"patients seeded        {PATIENTS:,} in {seconds:.1f} s")
    for kind, r in searches.items():
        print(f"search {kind:<16}p50 {r['p50']:6.2f} ms   p95 {r['p95']:6.2f} ms"
              f"   {'ok' if r['p95'] < TARGET_MS else 'MISSED'} (target p95 < {TARGET_MS:.0f} ms)")
    print(f"initials plan uses pk_patient_search_terms: {'yes' if 'pk_patient_search_terms' in plan else 'NO'}")
    print(f"GET /patients          {rates['/patients']:.0f} req/s")
    print(f"GET /healthz           {rates['/healthz']:.0f} req/s")
    print(f"ratio /patients:/healthz  {rates['/patients'] / rates['/healthz']:.2f}")


if __name__ == "__main__":
    main()
