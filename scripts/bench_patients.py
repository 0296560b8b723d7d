"""`make bench`: patient search and the patient list at 200,000 patients.

In its own database (careloop_bench, dropped and recreated) this script
1. seeds one clinic with 200,000 patients, the rows built with the same field
   logic as services.enrol and written with COPY as the owner role;
2. times services.search as the app role (row-level security on): p50/p95 of
   name fragments, full pinyin, initials, card numbers and mobile last four,
   and prints EXPLAIN (ANALYZE, BUFFERS) of an initials search (and of the
   slowest query of any kind that misses the 20 ms p95 target);
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
from contextlib import suppress
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path

import benchdb  # scripts/benchdb.py, beside this script
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
APP_URL, OWNER_URL = benchdb.urls("careloop_bench")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "200000"))
DATA_KEY, SECRET_KEY = "careloop bench data key", "careloop-bench-secret-key-0123456789abcdef"
SLUG, PASSWORD = "bench", "bench-password-123"
OWNER_EMAIL = f"owner@{SLUG}.example.cn"
BATCH, QUERIES, WARMUP, TARGET_MS = 5_000, 300, 30, 20.0
CLIENTS, LOAD_SECONDS = 4, 10.0




def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": DATA_KEY, "SECRET_KEY": SECRET_KEY,
                       "REDIS_URL": None})


# ------------------------------------------------------------------ seeding

@cache
def name_fields(name: str) -> tuple[str, frozenset[str]]:
    """Pinyin and the name's own search terms; names repeat, so cached."""
    return primary_pinyin(name), frozenset(terms_for(name, "", ""))


def patient_row(tenant_id: int, card_no: str, data: services.PatientData, consent: str) -> tuple[dict, set]:
    """The row and the search terms services.enrol writes for ``data``."""
    data = services.validate(data)
    pinyin, name_terms = name_fields(data.name)
    mobile, id_number, now = data.mobile, data.id_number, utcnow()
    row = {
        "tenant_id": tenant_id, "id": new_id(), "card_no": card_no, "name": data.name, "name_pinyin": pinyin,
        "sex": data.sex, "birth_date": data.birth_date, "mobile_last4": mobile[-4:],
        "mobile_enc": crypto.encrypt(mobile, tenant_id),
        "mobile_index": crypto.blind_index(mobile, tenant_id, services.MOBILE_PURPOSE),
        "id_number_enc": crypto.encrypt(id_number, tenant_id) if id_number else None,
        "id_number_index": crypto.blind_index(id_number, tenant_id, services.ID_PURPOSE) if id_number else None,
        "address": data.address.strip(), "emergency_name": data.emergency_name.strip(),
        "emergency_phone": data.emergency_phone, "source_channel": data.source_channel,
        "consent_version": consent, "consent_at": now, "smoking": "", "alcohol": "", "exercise": "",
        "email": data.email, "preferred_locale": "zh_CN", "responsible_doctor_id": None,
        "health_manager_id": None,
        "archived_at": None, "enrolled_by": None, "created_at": now, "updated_at": now,
    }
    # terms_for is the union of the name's terms and the card/mobile terms; only the first is cached
    return row, name_terms | terms_for("", card_no, mobile[-4:])


def check_row_builder() -> None:
    """Enrol one patient through the service (in a throwaway clinic) and
    compare the stored row and terms with what patient_row builds."""
    data = make_patient(random.Random("check"))
    tenant = create_tenant("bench-check", "Bench check")
    with tenant_context(tenant.id):
        enrolled = services.enrol(services.PatientData(**vars(data)), consent_version="check")
        db.session.commit()
        stored = {c.name: getattr(enrolled, c.name) for c in Patient.__table__.columns}
        stored_terms = set(db.session.scalars(select(PatientSearchTerm.term)
                                              .where(PatientSearchTerm.patient_id == enrolled.id)))
        built, built_terms = patient_row(tenant.id, enrolled.card_no, data, "check")
    for column in ("mobile_enc", "id_number_enc"):  # random nonces: compare the plaintext
        stored[column], built[column] = (crypto.decrypt(v[column], tenant.id) for v in (stored, built))
    different = [k for k in stored if k not in ("id", "consent_at", "created_at", "updated_at")
                 and stored[k] != built[k]]
    if different or stored_terms != built_terms:
        sys.exit(f"bulk rows differ from services.enrol: {different}, {sorted(stored_terms ^ built_terms)}")
    print(f"row builder matches services.enrol ({data.name}: {len(stored_terms)} search terms)")


def build_batch(rng, tenant_id: int, cards: list[str], consent: str, seen_ids: set) -> tuple[list, list]:
    patients, terms = [], []
    for card_no in cards:
        row, row_terms = patient_row(tenant_id, card_no, make_patient(rng), consent)
        while row["id_number_index"] in seen_ids:  # enrol refuses a second card for one ID number
            row, row_terms = patient_row(tenant_id, card_no, make_patient(rng), consent)
        if row["id_number_index"]:
            seen_ids.add(row["id_number_index"])
        patients.append(row)
        terms.extend((tenant_id, term, row["id"]) for term in sorted(row_terms))
    return patients, terms


def write_batch(conn, tenant_id: int, patients: list[dict], terms: list[tuple]) -> None:
    """COPY FROM refuses tables under FORCE ROW LEVEL SECURITY: COPY into
    temporary tables, then INSERT ... SELECT with the tenant set."""
    columns = [c.name for c in Patient.__table__.columns]
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
    with conn.cursor().copy(f"COPY stage_patients ({', '.join(columns)}) FROM STDIN") as copy:
        for row in patients:
            copy.write_row([row[c] for c in columns])
    with conn.cursor().copy("COPY stage_terms (tenant_id, term, patient_id) FROM STDIN") as copy:
        for row in terms:
            copy.write_row(row)
    conn.execute("INSERT INTO patients SELECT * FROM stage_patients")
    conn.execute("INSERT INTO patient_search_terms SELECT * FROM stage_terms")
    conn.commit()  # ON COMMIT DELETE ROWS empties the stage


def seed(app, tenant_id: int, prefix: str) -> tuple[list[dict], float]:
    """Seed PATIENTS patients; return each one's searchable fields and the seconds taken."""
    rng, seen_ids, sample, term_count = random.Random(20260101), set(), [], 0
    started = time.perf_counter()
    with app.app_context(), psycopg.connect(benchdb.libpq(OWNER_URL)) as conn:
        for stage, table in (("stage_patients", "patients"), ("stage_terms", "patient_search_terms")):
            conn.execute(f"CREATE TEMP TABLE {stage} (LIKE {table}) ON COMMIT DELETE ROWS")
        for first in range(1, PATIENTS + 1, BATCH):
            cards = [f"{prefix}{seq:06d}" for seq in range(first, min(first + BATCH, PATIENTS + 1))]
            patients, terms = build_batch(rng, tenant_id, cards, app.config["CONSENT_VERSION"], seen_ids)
            write_batch(conn, tenant_id, patients, terms)
            sample += [{k: p[k] for k in ("name", "name_pinyin", "card_no", "mobile_last4")} for p in patients]
            term_count += len(terms)
            if len(sample) % 25_000 == 0 or len(sample) == PATIENTS:
                print(f"  {len(sample):>7,} patients {term_count:>10,} search terms "
                      f"{time.perf_counter() - started:5.0f} s")
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        conn.execute("INSERT INTO tenant_counters (tenant_id, name, value) VALUES (%s, 'card', %s) "
                     "ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value", [tenant_id, PATIENTS])
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) patients, patient_search_terms")  # fresh statistics, visibility map
    return sample, time.perf_counter() - started


# ------------------------------------------------------------------- search

def initials(name: str) -> str:
    return "".join(s[0] for s in name_readings(name)[0])


QUERY_KINDS = {  # each makes a query from one seeded patient
    "name fragment": lambda rng, p: rng.choice((p["name"][1:], rng.choice(p["name"][1:]))),
    "full pinyin": lambda rng, p: p["name_pinyin"],
    "initials": lambda rng, p: initials(p["name"]),
    "card number": lambda rng, p: p["card_no"],
    "mobile last 4": lambda rng, p: p["mobile_last4"],
}


def time_kind(rng, sample: list[dict], make_query) -> dict:
    """p50/p95 ms of QUERIES searches (after WARMUP), misses, an example and the slowest query."""
    timings, empty = [], 0
    for i in range(WARMUP + QUERIES):
        query = make_query(rng, rng.choice(sample))
        started = time.perf_counter()
        found = services.search(query).patients
        if i >= WARMUP:
            timings.append(((time.perf_counter() - started) * 1000, query))
            empty += not found
        db.session.rollback()  # one transaction per search, as per request
    cuts = statistics.quantiles([ms for ms, _ in timings], n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "verdict": "ok" if cuts[94] < TARGET_MS else "MISSED",
            "empty": empty, "example": query, "slowest": max(timings)[1]}


def measure_search(app, tenant_id: int, sample: list[dict]) -> dict:
    rng = random.Random(7)
    with app.app_context(), tenant_context(tenant_id):
        assert db.session.scalar(select(func.count()).select_from(Patient)) >= PATIENTS, "RLS hides the patients"
        results = {kind: time_kind(rng, sample, make_query) for kind, make_query in QUERY_KINDS.items()}
    print(f"\n{'query':<15}{'example':<14}{'p50 ms':>8}{'p95 ms':>8}{'no hit':>8}  p95 < {TARGET_MS:.0f} ms")
    for kind, r in results.items():
        print(f"{kind:<15}{r['example']:<14}{r['p50']:>8.2f}{r['p95']:>8.2f}{r['empty']:>8}  {r['verdict']}")
    return results


def explain_search(app, tenant_id: int, query: str) -> str:
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
        plan = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + captured[-1][0],
                                                       captured[-1][1])
        text = "\n".join(line for (line,) in plan)
        db.session.rollback()
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of search({query!r}) as {make_url(APP_URL).username}:\n{text}")
    return text


# --------------------------------------------------------------------- http

def request(port: int, path: str, cookie: str = "", form: dict | None = None,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, str]:
    """GET (or POST ``form``) to the bench clinic; on ``conn`` if given, else a new connection."""
    own, conn = conn is None, conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": f"{SLUG}.localhost:{port}", "Cookie": cookie,
               "Content-Type": "application/x-www-form-urlencoded"}
    try:
        conn.request("POST" if form else "GET", path, urllib.parse.urlencode(form) if form else None, headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        if own:
            conn.close()


def wait_until_up(proc: subprocess.Popen, port: int, log_name: str) -> None:
    for _ in range(150):
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log_name}")
        with suppress(OSError):
            if request(port, "/healthz")[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 30 s; see {log_name}")


def sign_in(port: int) -> str:
    """The session cookie of the clinic's signed-in owner."""
    status, headers, page = request(port, "/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or not token:
        raise RuntimeError(f"GET /login answered {status} without a CSRF token")
    cookie = f"session={SimpleCookie(headers['Set-Cookie'])['session'].value}"
    status, headers, _ = request(port, "/login", cookie,
                                 {"email": OWNER_EMAIL, "password": PASSWORD, "csrf_token": token.group(1)})
    if status != 302:
        raise RuntimeError(f"sign-in answered {status}, not a redirect")
    return f"session={SimpleCookie(headers['Set-Cookie'])['session'].value}"


def requests_per_second(port: int, path: str, cookie: str = "") -> float:
    """CLIENTS threads, each sending GETs back to back for LOAD_SECONDS."""
    counts, errors, deadline = [0] * CLIENTS, [], time.perf_counter() + LOAD_SECONDS

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.perf_counter() < deadline:
                if (status := request(port, path, cookie, conn=conn)[0]) != 200:
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


def measure_http(newest_card: str) -> dict:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=APP_URL, DATABASE_OWNER_URL=OWNER_URL, CARELOOP_ENV="development",
               DATA_KEY=DATA_KEY, SECRET_KEY=SECRET_KEY, CARELOOP_EMBEDDED_WORKER="0")
    with tempfile.NamedTemporaryFile("w", prefix="bench-gunicorn-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(proc, port, log.name)
            cookie = sign_in(port)
            status, _, page = request(port, "/patients", cookie)
            if status != 200 or newest_card not in page:
                raise RuntimeError(f"GET /patients answered {status} without the newest card {newest_card}")
            rates = {path: requests_per_second(port, path, cookie) for path in ("/patients", "/healthz")}
        finally:
            benchdb.stop(proc, log)
    os.unlink(log.name)  # kept (and named in the error) when something failed
    return rates


# --------------------------------------------------------------------- main

def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress interleaves with Alembic's log on stderr
    print(f"database {make_url(OWNER_URL).database}: recreating and migrating")
    benchdb.recreate(OWNER_URL, APP_URL)
    app = make_app()
    with app.app_context():
        upgrade()
        check_row_builder()
        tenant = create_tenant(SLUG, "Bench clinic", admin_email=OWNER_EMAIL, admin_password=PASSWORD)
        tenant_id, prefix = tenant.id, tenant.card_prefix
    print(f"seeding {PATIENTS:,} patients into clinic {SLUG!r}")
    sample, seconds = seed(app, tenant_id, prefix)
    print(f"seeded in {seconds:.1f} s ({len(sample) / seconds:,.0f} patients/s)")

    searches = measure_search(app, tenant_id, sample)
    two_letters = next(initials(p["name"]) for p in sample if len(p["name"]) == 2)  # the broadest initials
    plan = explain_search(app, tenant_id, two_letters)
    for kind, result in searches.items():
        if result["verdict"] == "MISSED":
            print(f"\n{kind} missed the target; its slowest query:", end="")
            explain_search(app, tenant_id, result["slowest"])
    print(f"\nGET /patients and /healthz under gunicorn -w 2: {CLIENTS} clients, {LOAD_SECONDS:.0f} s each")
    rates = measure_http(sample[-1]["card_no"])

    print("\n==== summary " + "=" * 60)
    print(f"seeding              {PATIENTS:,} patients in {seconds:.1f} s")
    for kind, r in searches.items():
        print(f"search {kind:<14}p50 {r['p50']:6.2f} ms  p95 {r['p95']:6.2f} ms  {r['verdict']} "
              f"(p95 < {TARGET_MS:.0f} ms)")
    print(f"initials plan        {'uses' if 'pk_patient_search_terms' in plan else 'does NOT use'} "
          "pk_patient_search_terms (tenant_id, term)")
    print(f"GET /patients        {rates['/patients']:.0f} req/s")
    print(f"GET /healthz         {rates['/healthz']:.0f} req/s")
    print(f"ratio                {rates['/patients'] / rates['/healthz']:.2f} (/patients : /healthz)")


if __name__ == "__main__":
    main()
