"""The exam shop under load: calendar latency, booking throughput, overbookings.

In its own database (careloop_bench_booking, dropped and recreated) this script
1. creates one clinic with a week of slots, five packages and PATIENTS
   patients, each with a signed-in portal account (a session cookie signed
   with the app's own key, as after a code sign-in);
2. starts gunicorn (-w WORKERS) and runs CLIENTS simulated patients for
   LOAD_SECONDS: each opens a package's calendar month (htmx fragment, timed),
   a date's slots, the confirmation page and then books (GET + POST, timed);
3. races RACERS patients at once for a slot with RACE_PLACES places;
4. counts overbookings in the database: orders holding a place beyond the
   slot's capacity, and counters that disagree with the orders.
A benchmark, not a test: missed targets are reported, only errors exit non-zero.
Environment: BENCH_DATABASE_URL, BENCH_DATABASE_OWNER_URL, BENCH_PATIENTS, BENCH_CLIENTS, BENCH_SECONDS.
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
from datetime import date, timedelta
from datetime import time as clock
from http.cookies import SimpleCookie
from pathlib import Path

import benchdb  # scripts/benchdb.py, beside this script
import psycopg
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
APP_URL, OWNER_URL = benchdb.urls("careloop_bench_booking")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "400"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
LOAD_SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
RACERS, RACE_PLACES = 50, 5
DATA_KEY, SECRET_KEY = "careloop bench data key", "careloop-bench-secret-key-0123456789abcdef"
SLUG = "bench"
P95_TARGET_MS, RATE_TARGET = 100.0, 20.0
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_IDEM = re.compile(r'name="idem"[^>]*value="([^"]+)"')




def make_app():
    return create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                       "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": DATA_KEY, "SECRET_KEY": SECRET_KEY,
                       "REDIS_URL": REDIS_URL})


def seed(app) -> dict:
    """The clinic, its slots and packages, patients with portal sessions."""

    from app.booking import services as booking
    from app.booking.models import SlotTemplate
    from app.core import crypto, sessions
    from app.patients import services as patients
    from app.portal.models import PortalAccount
    from app.seed import make_patient
    from tenants.context import tenant_context
    from tenants.db import db
    from tenants.services import create_tenant

    rng = random.Random(6)
    with app.app_context():
        tenant = create_tenant(SLUG, "Bench clinic", admin_email=f"owner@{SLUG}.example.cn",
                               admin_password="bench-password-123")
        tenant_id = tenant.id
        with tenant_context(tenant_id):
            for weekday in range(7):  # every day open, so the horizon is all bookable
                for start in ("07:30", "08:30", "09:30", "10:30"):
                    existing = db.session.query(SlotTemplate).filter_by(weekday=weekday,
                                                                         start=clock.fromisoformat(start))
                    if existing.first():
                        continue
                    hour = int(start[:2])
                    booking.add_slot(weekday, clock.fromisoformat(start), clock(hour + 1, 30), 20)
            packages = [booking.save_package(booking.PackageData(
                name=f"套餐{i}", price=str(199 + 100 * i), items="血常规: 718-7\n空腹血糖: 14771-0",
                fasting=bool(i % 2))).id for i in range(5)]
            race_day = date.today() + timedelta(days=3)
            booking.add_override(race_day, clock(12, 0), clock(13, 0), RACE_PLACES)
            serializer = app.session_interface.get_signing_serializer(app)
            cookies = []
            for i in range(PATIENTS):
                data = make_patient(rng)
                data.id_number = ""
                patient = patients.enrol(data, consent_version="bench")
                account = PortalAccount(mobile_index=crypto.blind_index(data.mobile, tenant_id, "mobile"),
                                        mobile_enc=crypto.encrypt(data.mobile, tenant_id), patient_id=patient.id)
                db.session.add(account)
                db.session.flush()
                token = sessions.start("portal", account.id)  # a server-side session, as a sign-in opens
                cookies.append("session=" + serializer.dumps({"portal_account": token}))
                if i % 100 == 99:
                    db.session.commit()
            db.session.commit()
    return {"tenant_id": tenant_id, "packages": packages, "cookies": cookies, "race_day": race_day}


# --------------------------------------------------------------------- http

class Client:
    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, path: str, form: dict | None = None, htmx: bool = False) -> tuple[int, dict, str]:
        headers = {"Host": f"{SLUG}.localhost:{self.port}", "Cookie": self.cookie}
        if htmx:
            headers["HX-Request"] = "true"
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request("POST" if form else "GET", path, urllib.parse.urlencode(form) if form else None, headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise
        body = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie and "session=" in cookie:
            self.cookie = f"session={SimpleCookie(cookie)['session'].value}"
        return response.status, dict(response.getheaders()), body

    def book(self, package_id: int, day: date, slot: str) -> tuple[int, float]:
        started = time.perf_counter()
        status, _h, page = self.request(f"/shop/packages/{package_id}/book?day={day}&slot={slot}")
        if status != 200:
            return status, time.perf_counter() - started
        form = {"csrf_token": _TOKEN.search(page).group(1), "idem": _IDEM.search(page).group(1),
                "day": day.isoformat(), "slot": slot}
        status, _h, _p = self.request(f"/shop/packages/{package_id}/book", form)
        return status, time.perf_counter() - started


def wait_until_up(proc, port: int, log_name: str) -> None:
    for _ in range(150):
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log_name}")
        try:
            if Client(port, "").request("/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 30 s; see {log_name}")


def load(port: int, seeded: dict) -> dict:
    """CLIENTS simulated patients for LOAD_SECONDS."""
    calendar_ms, booking_s, outcomes, errors = [], [], {}, []
    lock = threading.Lock()
    deadline = time.perf_counter() + LOAD_SECONDS
    cookies = list(seeded["cookies"][:-RACERS])
    first = date.today() + timedelta(days=2)

    def patient(i: int) -> None:
        rng = random.Random(i)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if not cookies:
                        return
                    client = Client(port, cookies.pop())
                package = rng.choice(seeded["packages"])
                day = first + timedelta(days=rng.randrange(0, 55))
                if day == seeded["race_day"]:  # its 12:00 slot is kept for the race
                    day += timedelta(days=1)
                started = time.perf_counter()
                status, _h, body = client.request(f"/shop/packages/{package}?month={day:%Y-%m}&part=calendar",
                                                  htmx=True)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200 or 'id="calendar"' not in body:
                    raise RuntimeError(f"calendar answered {status}")
                status, _h, body = client.request(f"/shop/packages/{package}?day={day}&part=slots", htmx=True)
                free = re.findall(r'name="slot" value="([0-9:]+)" required >', body)
                slot = rng.choice(free) if free else "07:30"
                status, seconds = client.book(package, day, slot)
                with lock:
                    calendar_ms.append(elapsed)
                    outcomes[status] = outcomes.get(status, 0) + 1
                    if status == 302:
                        booking_s.append(seconds)
                client.conn.close()
        except Exception as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=patient, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"a simulated patient failed: {errors[0]!r}")
    cuts = statistics.quantiles(calendar_ms, n=100, method="inclusive")
    return {"calendar_p50": cuts[49], "calendar_p95": cuts[94], "calendars": len(calendar_ms),
            "bookings": len(booking_s), "rate": len(booking_s) / wall, "wall": wall, "outcomes": outcomes,
            "booking_p95": statistics.quantiles(booking_s, n=100, method="inclusive")[94] * 1000 if booking_s else 0}


def race(port: int, seeded: dict) -> dict:
    """RACERS patients press "Book" at once for a slot with RACE_PLACES places."""
    clients = [Client(port, cookie) for cookie in seeded["cookies"][-RACERS:]]
    package, day = seeded["packages"][0], seeded["race_day"]
    forms = []
    for client in clients:  # everyone has the confirmation page open
        status, _h, page = client.request(f"/shop/packages/{package}/book?day={day}&slot=12:00")
        forms.append({"csrf_token": _TOKEN.search(page).group(1), "idem": _IDEM.search(page).group(1),
                      "day": day.isoformat(), "slot": "12:00"})
    barrier, statuses = threading.Barrier(RACERS), [0] * RACERS

    def press(i: int) -> None:
        barrier.wait()
        statuses[i] = clients[i].request(f"/shop/packages/{package}/book", forms[i])[0]

    threads = [threading.Thread(target=press, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"booked": statuses.count(302), "refused": statuses.count(409), "other": RACERS - statuses.count(302)
            - statuses.count(409)}


def overbookings(tenant_id: int) -> tuple[int, int]:
    """(slots holding more orders than places, counters disagreeing with the orders), as the owner."""
    holding = "('pending_payment', 'pay_at_clinic', 'paid', 'confirmed', 'checked_in', 'completed', 'no_show')"
    with psycopg.connect(benchdb.libpq(OWNER_URL)) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])  # FORCE RLS binds the owner too
        over = conn.execute(f"""
            SELECT count(*) FROM (
              SELECT o.day, o.start, count(*) AS n, max(c.capacity) AS capacity
              FROM booking_orders o JOIN slot_counters c
                ON c.tenant_id = o.tenant_id AND c.day = o.day AND c.start = o.start
              WHERE o.tenant_id = %s AND o.status IN {holding}
              GROUP BY o.day, o.start) s WHERE n > capacity""", [tenant_id]).fetchone()[0]
        drift = conn.execute(f"""
            SELECT count(*) FROM slot_counters c WHERE c.tenant_id = %s AND c.booked <> (
              SELECT count(*) FROM booking_orders o WHERE o.tenant_id = c.tenant_id AND o.day = c.day
                AND o.start = c.start AND o.status IN {holding})""", [tenant_id]).fetchone()[0]
    return over, drift


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    print(f"database {make_url(OWNER_URL).database}: recreating and migrating")
    benchdb.recreate(OWNER_URL, APP_URL)
    app = make_app()
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    seeded = seed(app)
    print(f"seeded {PATIENTS} patients with portal sessions, 5 packages in {time.perf_counter() - started:.1f} s")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=APP_URL, DATABASE_OWNER_URL=OWNER_URL, CARELOOP_ENV="development",
               DATA_KEY=DATA_KEY, SECRET_KEY=SECRET_KEY, REDIS_URL=REDIS_URL, CARELOOP_EMBEDDED_WORKER="0")
    with tempfile.NamedTemporaryFile("w", prefix="bench-booking-gunicorn-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "--threads", "4",
                                 "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            wait_until_up(proc, port, log.name)
            print(f"gunicorn -w {WORKERS} --threads 4; {CLIENTS} simulated patients for {LOAD_SECONDS:.0f} s")
            result = load(port, seeded)
            print(f"racing {RACERS} patients for the last {RACE_PLACES} places of one slot")
            raced = race(port, seeded)
        finally:
            benchdb.stop(proc, log)
    os.unlink(log.name)
    over, drift = overbookings(seeded["tenant_id"])
    verdict = lambda ok: "ok" if ok else "MISSED"  # noqa: E731
    print("\n==== summary " + "=" * 60)
    print(f"calendar month (htmx)  p50 {result['calendar_p50']:6.1f} ms  p95 {result['calendar_p95']:6.1f} ms "
          f"over {result['calendars']} requests  {verdict(result['calendar_p95'] < P95_TARGET_MS)} "
          f"(p95 < {P95_TARGET_MS:.0f} ms)")
    print(f"bookings               {result['bookings']} in {result['wall']:.1f} s = {result['rate']:.1f}/s  "
          f"{verdict(result['rate'] >= RATE_TARGET)} (>= {RATE_TARGET:.0f}/s); confirm+book p95 "
          f"{result['booking_p95']:.0f} ms; answers {result['outcomes']}")
    print(f"race for {RACE_PLACES} places         {raced['booked']} booked, {raced['refused']} refused, "
          f"{raced['other']} other  {verdict(raced['booked'] == RACE_PLACES and not raced['other'])}")
    print(f"overbooked slots       {over}  {verdict(over == 0)}")
    print(f"counters off by orders {drift}  {verdict(drift == 0)}")


if __name__ == "__main__":
    main()
