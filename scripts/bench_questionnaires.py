"""Questionnaires under load: portal submissions and the patient page with its responses.

In its own database (careloop_bench_questionnaires, dropped and recreated) this script
1. creates one clinic with PATIENTS patients, each with a signed-in portal account (a session cookie
   signed with the app's own key, as after a code sign-in) and a PHQ-9 requested of them, and one more
   patient with HISTORY submitted, scored PHQ-9 and GAD-7 responses;
2. starts gunicorn (-w WORKERS) and has CLIENTS simulated patients open their form and submit it
   (GET + POST, the POST timed) until every requested response is submitted;
3. signs the owner in and opens the patient page's questionnaire section of the patient with history
   PAGE_REQUESTS times (timed);
4. checks in the database that every response was scored once and stored one observation.
A benchmark, not a test: missed targets are reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, BENCH_PATIENTS, BENCH_CLIENTS, BENCH_WORKERS.
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
from http.cookies import SimpleCookie
from pathlib import Path

import benchdb  # scripts/benchdb.py, beside this script
import psycopg
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
APP_URL, OWNER_URL = benchdb.urls("careloop_bench_questionnaires")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "1000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
HISTORY, PAGE_REQUESTS = 20, 200
DATA_KEY, SECRET_KEY = "careloop bench data key", "careloop-bench-secret-key-0123456789abcdef"
SLUG, OWNER_EMAIL, PASSWORD = "bench", "owner@bench.example.cn", "bench-password-123"
SUBMIT_TARGET_MS, PAGE_TARGET_MS = 300.0, 150.0
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": DATA_KEY, "SECRET_KEY": SECRET_KEY,
                       "REDIS_URL": REDIS_URL})


def seed(app) -> dict:
    from app.core import crypto, sessions
    from app.patients import services as patients
    from app.portal.models import PortalAccount
    from app.questionnaires import library, responses, submission
    from app.seed import make_patient
    from tenants.context import tenant_context
    from tenants.db import db
    from tenants.services import create_tenant

    rng = random.Random(15)
    with app.app_context():
        tenant = create_tenant(SLUG, "Bench clinic", admin_email=OWNER_EMAIL, admin_password=PASSWORD)
        tenant_id = tenant.id
        with tenant_context(tenant_id):
            library.sync_pack()
            phq9, gad7 = library.by_key("phq9"), library.by_key("gad7")
            serializer = app.session_interface.get_signing_serializer(app)
            forms = []
            for i in range(PATIENTS):
                data = make_patient(rng)
                data.id_number = ""
                patient = patients.enrol(data, consent_version="bench")
                account = PortalAccount(mobile_index=crypto.blind_index(data.mobile, tenant_id, "mobile"),
                                        mobile_enc=crypto.encrypt(data.mobile, tenant_id), patient_id=patient.id)
                db.session.add(account)
                db.session.flush()
                token = sessions.start("portal", account.id)
                response = responses.request(phq9, patient, channel="portal")
                forms.append(("session=" + serializer.dumps({"portal_account": token}), response.id))
                if i % 100 == 99:
                    db.session.commit()
            data = make_patient(rng)
            data.id_number = ""
            regular = patients.enrol(data, consent_version="bench")
            for n in range(HISTORY):  # alternating PHQ-9 and GAD-7, totals moving up and down
                questionnaire, items = (phq9, 9) if n % 2 == 0 else (gad7, 7)
                response = responses.request(questionnaire, regular, channel="portal")
                answer = {f"q{k}": str((n + k) % 3) for k in range(1, items + 1)}
                if items == 9:
                    answer["q9"] = "0"
                submission.submit(response, regular, answer, actor_label="bench")
                db.session.flush()
            regular_id = regular.id
            db.session.commit()
    return {"tenant_id": tenant_id, "forms": forms, "regular_id": regular_id}


def request(port: int, path: str, cookie: str, form: dict | None = None, htmx: bool = False,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, str]:
    own, conn = conn is None, conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": f"{SLUG}.localhost:{port}", "Cookie": cookie}
    if htmx:
        headers["HX-Request"] = "true"
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request("POST" if form else "GET", path, urllib.parse.urlencode(form) if form else None, headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        if own:
            conn.close()


def submit_all(port: int, seeded: dict) -> dict:
    forms, lock, submit_ms, errors = list(seeded["forms"]), threading.Lock(), [], []

    def patient(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    if not forms:
                        return
                    cookie, response_id = forms.pop()
                path = f"/portal/questionnaires/{response_id}"
                status, headers, page = request(port, path, cookie, conn=conn)
                if status != 200 or not _TOKEN.search(page):
                    raise RuntimeError(f"GET {path} answered {status}")
                if "Set-Cookie" in headers:
                    cookie = f"session={SimpleCookie(headers['Set-Cookie'])['session'].value}"
                answers = {f"q{k}": str(rng.randrange(4)) for k in range(1, 10)}
                started = time.perf_counter()
                status, _h, _p = request(port, path, cookie, {"csrf_token": _TOKEN.search(page).group(1), **answers},
                                         conn=conn)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    raise RuntimeError(f"POST {path} answered {status}")
                with lock:
                    submit_ms.append(elapsed)
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=patient, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"a simulated patient failed: {errors[0]!r}")
    cuts = statistics.quantiles(submit_ms, n=100, method="inclusive")
    return {"count": len(submit_ms), "wall": wall, "rate": len(submit_ms) / wall, "p50": cuts[49], "p95": cuts[94]}


def sign_in(port: int) -> str:
    status, headers, page = request(port, "/login", "")
    cookie = f"session={SimpleCookie(headers['Set-Cookie'])['session'].value}"
    status, headers, _ = request(port, "/login", cookie, {"email": OWNER_EMAIL, "password": PASSWORD,
                                                         "csrf_token": _TOKEN.search(page).group(1)})
    if status != 302:
        raise RuntimeError(f"sign-in answered {status}")
    return f"session={SimpleCookie(headers['Set-Cookie'])['session'].value}"


def patient_page(port: int, patient_id: int) -> dict:
    cookie = sign_in(port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    timings = []
    for _ in range(PAGE_REQUESTS):
        started = time.perf_counter()
        status, _h, body = request(port, f"/patients/{patient_id}/questionnaires", cookie, htmx=True, conn=conn)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200 or body.count('class="score"') < HISTORY:
            raise RuntimeError(f"the patient's questionnaires answered {status} without its {HISTORY} scores")
    conn.close()
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94]}


def filed(tenant_id: int) -> tuple[int, int]:
    """(submitted responses, questionnaire observations), as the owner."""
    with psycopg.connect(benchdb.libpq(OWNER_URL)) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        submitted = conn.execute("SELECT count(*) FROM questionnaire_responses WHERE tenant_id = %s "
                                 "AND status = 'submitted'", [tenant_id]).fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM observations WHERE tenant_id = %s AND origin = 'response'",
                              [tenant_id]).fetchone()[0]
    return submitted, stored


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    print(f"database {make_url(OWNER_URL).database}: recreating and migrating")
    benchdb.recreate(OWNER_URL, APP_URL)
    app = make_app()
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    seeded = seed(app)
    print(f"seeded {PATIENTS} patients with portal sessions and a PHQ-9 each, one with {HISTORY} responses, "
          f"in {time.perf_counter() - started:.1f} s")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=APP_URL, DATABASE_OWNER_URL=OWNER_URL, CARELOOP_ENV="development",
               DATA_KEY=DATA_KEY, SECRET_KEY=SECRET_KEY, REDIS_URL=REDIS_URL, CARELOOP_EMBEDDED_WORKER="0")
    with tempfile.NamedTemporaryFile("w", prefix="bench-questionnaires-gunicorn-", suffix=".log",
                                     delete=False) as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "--threads", "4",
                                 "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            for _ in range(150):
                if proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited; see {log.name}")
                try:
                    if request(port, "/healthz", "")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            print(f"gunicorn -w {WORKERS} --threads 4; {CLIENTS} simulated patients submitting")
            submitted = submit_all(port, seeded)
            page = patient_page(port, seeded["regular_id"])
        finally:
            benchdb.stop(proc, log)
    os.unlink(log.name)
    stored_responses, observations = filed(seeded["tenant_id"])
    verdict = lambda ok: "ok" if ok else "MISSED"  # noqa: E731
    print("\n==== summary " + "=" * 60)
    print(f"portal submissions     {submitted['count']} in {submitted['wall']:.1f} s = {submitted['rate']:.1f}/s; "
          f"submit p50 {submitted['p50']:.0f} ms  p95 {submitted['p95']:.0f} ms  "
          f"{verdict(submitted['p95'] < SUBMIT_TARGET_MS)} (p95 < {SUBMIT_TARGET_MS:.0f} ms)")
    print(f"patient page, {HISTORY} scored responses  p50 {page['p50']:.1f} ms  p95 {page['p95']:.1f} ms  "
          f"{verdict(page['p95'] < PAGE_TARGET_MS)} (p95 < {PAGE_TARGET_MS:.0f} ms)")
    print(f"filed                  {stored_responses} submitted responses, {observations} observations  "
          f"{verdict(stored_responses == PATIENTS + HISTORY and observations == PATIENTS + HISTORY)}")


if __name__ == "__main__":
    main()
