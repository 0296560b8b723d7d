"""Email notifications end to end: commit -> RQ -> two workers -> SMTP server.

Everything runs on this machine and shares its CPUs: PostgreSQL (database
careloop_bench_notify, recreated), Redis (BENCH_REDIS_URL, default db 13,
FLUSHDB of that db only), the STARTTLS + AUTH test server of
tests/notifications/smtp_server.py in its own process, two RQ worker processes
(this script with --worker: rq.SimpleWorker, non-burst, with the scheduler,
like `rq worker -w rq.SimpleWorker --with-scheduler`) and the producer (this
process: PRODUCERS threads sharing one schedule, one committed transaction per
booking_confirmation email, the send enqueued by the after-commit hook).
1. paced: BENCH_PACED emails at BENCH_RATE/s: delay from the COMMIT call to the
   message's arrival (end of DATA) at the server, p50/p95/max;
   target p95 < 2 s at 50/s, none lost, none delivered twice;
2. drain: BENCH_DRAIN emails committed as fast as possible: messages/s at the
   server from the first arrival to the last.
The server logs each accepted message's arrival time and Message-ID, which is
stable per outbox row (<tenant.row@careloop>): duplicates and losses are
counted there. Missed targets are reported; only errors exit non-zero.
BENCH_PROFILE=DIR: each worker writes a cProfile (CPU time) of its run to DIR.
"""
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import time as clock
from pathlib import Path
from typing import TextIO
from unittest.mock import patch

import benchdb  # scripts/benchdb.py, beside this script
import psycopg
from flask_migrate import upgrade
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app import create_app
from app.core import jobs
from app.notifications import services as notifications
from app.notifications.models import Notification, NotificationSettings
from app.patients import services as patients
from app.seed import make_patient
from tenants.context import tenant_context
from tenants.db import db
from tenants.services import create_tenant

ROOT = Path(__file__).resolve().parent.parent
APP_URL, OWNER_URL = benchdb.urls("careloop_bench_notify")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "2000"))
PACED, DRAIN = int(os.environ.get("BENCH_PACED", "10000")), int(os.environ.get("BENCH_DRAIN", "10000"))
RATE, WORKERS, PRODUCERS, TARGET_P95 = float(os.environ.get("BENCH_RATE", "50")), 2, 4, 2.0
WAIT_AFTER, SETTLE = 120.0, 1800.0  # seconds after the last commit: counted as on time; backlog wait
CONFIG_ENV = "CARELOOP_BENCH_NOTIFY_CONFIG"
BOOKING = {"patient_name": "王晓燕", "package": "入职体检套餐", "date": "2026-12-03", "time": "08:30",
           "clinic": "康宁健康管理中心", "order_no": "DE20261203001"}
MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*(\S+)")




def stand_in_for_autovacuum() -> None:
    """This machine's PostgreSQL runs with autovacuum off (a CI setting). In
    production it would analyze the growing outbox; without statistics, the
    plans prepared while it was empty stay, and each lookup by id scans every
    row of the clinic (measured: 949 million index entries read for 20,000
    messages). So: VACUUM (ANALYZE) notifications every 30 s, as autovacuum would."""
    with psycopg.connect(benchdb.libpq(OWNER_URL), autocommit=True) as conn:
        if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
            return
        print("autovacuum is off on this server: VACUUM (ANALYZE) notifications every 30 s stands in for it")
        while True:
            conn.execute("VACUUM (ANALYZE) notifications")
            time.sleep(30)


def app_config(mail_url: str) -> dict:
    return {"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
            "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": "careloop bench data key",
            "SECRET_KEY": "careloop-bench-secret-key-0123456789abcdef", "REDIS_URL": REDIS_URL, "MAIL_URL": mail_url}


# ------------------------------------------------------- the SMTP server

def run_smtp_server(log_path: str) -> None:
    """--smtp LOG: the test server; one line per accepted message appended to
    LOG, "arrival Message-ID"; prints MAIL_URL, stops when stdin closes."""
    sys.path.insert(0, str(ROOT))  # tests/ is not installed
    from tests.notifications import smtp_server as smtp_module

    with open(log_path, "a", buffering=1) as log:

        class Recording(smtp_module.Mailbox):
            async def handle_DATA(self, server, session, envelope):
                arrived = time.time()
                found = MESSAGE_ID.search(envelope.content.partition(b"\r\n\r\n")[0])
                log.write(f"{arrived:.6f} {found.group(1).decode() if found else '-'}\n")
                return "250 2.0.0 queued"

        with patch.object(smtp_module, "Mailbox", Recording), smtp_module.smtp_server() as (_mailbox, mail_url):
            print(mail_url, flush=True)
            sys.stdin.read()


class Arrivals:
    """The server's log as it grows: [(arrival, Message-ID)]."""

    def __init__(self, handle: TextIO):
        self.handle, self.items, self.partial = handle, [], ""

    def poll(self) -> list[tuple[float, str]]:
        lines = (self.partial + self.handle.read()).split("\n")
        self.partial = lines.pop()  # "" or a line still being written
        self.items.extend((float(t), m) for t, m in (line.split() for line in lines))
        return self.items


# ----------------------------------------------------------------- workers

def run_worker() -> None:
    """--worker: the app from the config JSON, SimpleWorker until SIGTERM (warm shutdown)."""
    app = create_app(json.loads(os.environ[CONFIG_ENV]))
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: waits are other processes' work
        profiler.enable()
    with app.app_context():
        worker = SimpleWorker([jobs.queue("notifications")], connection=jobs.redis_connection())
        worker.work(burst=False, with_scheduler=True, logging_level="WARNING")
    if profile_dir:
        profiler.disable()
        profiler.dump_stats(f"{profile_dir}/worker-{os.getpid()}.prof")


def start_workers(config: dict, log, redis: Redis) -> list[subprocess.Popen]:
    env = dict(os.environ, **{CONFIG_ENV: json.dumps(config)})
    procs = [subprocess.Popen([sys.executable, __file__, "--worker"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT) for _ in range(WORKERS)]
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=redis)) < WORKERS:
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            stop(procs)
            raise RuntimeError(f"workers did not start; see {log.name}")
        time.sleep(0.2)
    return procs


def worker_stats(redis: Redis) -> str:
    workers = Worker.all(connection=redis)
    return (f"{sum(w.successful_job_count + w.failed_job_count for w in workers):,} jobs run "
            f"({sum(w.failed_job_count for w in workers)} crashed, {sum(w.total_working_time for w in workers):.0f}"
            f" s in jobs), {Queue('notifications', connection=redis).count:,} still queued")


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------ the producer

def seed(app) -> tuple[int, list[notifications.Recipient]]:
    """One clinic, PATIENTS patients with email addresses, no quiet hours, no cap."""
    rng, started = random.Random(20260101), time.perf_counter()
    with app.app_context():
        tenant_id = create_tenant("bench-notify", "Bench clinic").id
        with tenant_context(tenant_id):
            db.session.add(NotificationSettings(quiet_start=clock(0), quiet_end=clock(0), daily_cap=100_000,
                                                timezone="Asia/Shanghai"))  # start == end: no quiet hours
            enrolled = []
            for i in range(PATIENTS):
                data = make_patient(rng)
                data.id_number, data.email = "", f"patient{i:05d}@bench.example.cn"
                enrolled.append(patients.enrol(data, consent_version=app.config["CONSENT_VERSION"]))
            db.session.commit()
            recipients = [notifications.patient_recipient(p) for p in enrolled]
            db.session.rollback()
    print(f"seeded {PATIENTS:,} patients in {time.perf_counter() - started:.1f} s")
    return tenant_id, recipients


def produce(app, tenant_id: int, recipients: list, count: int, prefix: str, rate: float | None) -> dict:
    """Commit ``count`` emails, one per transaction, ``rate`` per second (None:
    as fast as possible); returns {Message-ID: time of the COMMIT call}."""
    committed, tickets, errors, started = {}, itertools.count(), [], time.time()

    def producer() -> None:
        try:
            with app.app_context(), tenant_context(tenant_id):
                while (i := next(tickets)) < count:
                    if rate:
                        time.sleep(max(0.0, started + i / rate - time.time()))
                    recipient = recipients[i % len(recipients)]
                    row = notifications.notify("booking_confirmation", recipient,
                                               dict(BOOKING, patient_name=recipient.name),
                                               idempotency_key=f"{prefix}-{i}", channels=("email",))[0]
                    message_id, at = f"<{tenant_id}.{row.id}@careloop>", time.time()
                    db.session.commit()  # the after-commit hook enqueues the send
                    committed[message_id] = at
        except Exception as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=producer, daemon=True) for _ in range(PRODUCERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"producer failed: {errors[0]!r}") from errors[0]
    took = time.time() - started
    print(f"  {count:,} committed in {took:.1f} s ({count / took:.1f}/s)")
    return committed


def wait_delivered(arrivals: Arrivals, committed: dict, timeout: float, stall: float | None = None) -> int:
    """Wait until every committed message arrived, ``timeout`` passed or, with
    ``stall``, nothing arrived for that long; return how many are missing."""
    deadline, seen, last_change = time.time() + timeout, -1, time.time()
    while True:
        items = arrivals.poll()
        missing = len(committed.keys() - {m for _t, m in items})
        if len(items) != seen:
            seen, last_change = len(items), time.time()
        if not missing or time.time() > deadline or (stall and time.time() - last_change > stall):
            return missing
        time.sleep(0.5)


def phase(app, arrivals: Arrivals, roles: dict, tenant_id: int, recipients: list, count: int, name: str,
          rate: float | None) -> dict:
    print(f"{name} phase: {count:,} emails " + (f"at {rate:.0f}/s" if rate else "as fast as they commit"))
    started, cpu = time.time(), cpu_seconds(roles)
    committed = produce(app, tenant_id, recipients, count, name, rate)
    late = wait_delivered(arrivals, committed, WAIT_AFTER)
    ended, cpu = time.time(), {role: used - cpu.get(role, 0.0) for role, used in cpu_seconds(roles).items()}
    print("  CPU per message: " + ", ".join(f"{role} {used / count * 1000:.1f} ms" for role, used in cpu.items())
          + f"; {sum(cpu.values()) / (ended - started):.2f} of {os.cpu_count()} CPUs")
    if late:  # let the backlog drain so the next phase starts from an empty queue
        print(f"  {late:,} not at the server {WAIT_AFTER:.0f} s after the last commit; waiting for the backlog")
        print(f"  {wait_delivered(arrivals, committed, SETTLE, stall=60):,} still missing")
    return {"committed": committed, "late": late, "load": [v for t, v in LOAD if started <= t <= ended]}


LOAD = []  # (time, 1-minute load average of the machine), every 5 s


def sample_load() -> None:
    while True:
        LOAD.append((time.time(), os.getloadavg()[0]))
        time.sleep(5)


def cpu_seconds(roles: dict[str, list[int]]) -> dict[str, float]:
    """CPU time (user + system) used so far by this benchmark's processes, by
    role, with the PostgreSQL backends serving its database (Redis is shared
    with other users of this machine and not counted)."""
    with psycopg.connect(benchdb.libpq(OWNER_URL), autocommit=True) as conn:
        roles = dict(roles, postgres=[pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")])

    def used(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return {role: sum(map(used, pids)) for role, pids in roles.items()}


# ---------------------------------------------------------------- analysis

def per_second(times: list[float]) -> float:
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 and max(times) > min(times) else 0.0


def analyse(arrivals: list, phase_: dict) -> dict:
    committed, seen = phase_["committed"], {}
    for arrived, message_id in arrivals:
        if message_id in committed:
            seen.setdefault(message_id, []).append(arrived)
    delays = sorted(min(times) - committed[m] for m, times in seen.items())
    cuts = statistics.quantiles(delays, n=100, method="inclusive") if len(delays) > 1 else [0.0] * 99
    load = phase_["load"] or [0.0]
    return {"delivered": len(seen), "twice": sum(len(t) > 1 for t in seen.values()), "late": phase_["late"],
            "load": f"{statistics.mean(load):.1f} mean, {max(load):.1f} max",
            "lost": len(committed) - len(seen), "commits": per_second(list(committed.values())),
            "rate": per_second([t for times in seen.values() for t in times]),
            "p50": cuts[49], "p95": cuts[94], "max": delays[-1] if delays else 0.0}


def report(paced: dict, drain: dict, arrivals: list, expected: int, status: dict, jobs_line: str) -> None:
    ok = paced["p95"] < TARGET_P95 and not (paced["lost"] or paced["twice"] or paced["late"])
    twice = sum(n > 1 for n in Counter(m for _t, m in arrivals).values())
    print("\n==== summary " + "=" * 60)
    print(f"machine              {os.cpu_count()} CPUs shared by PostgreSQL, Redis, the SMTP server, "
          f"{WORKERS} workers, the producer and whatever else runs (its 1-minute load average below)")
    for name, r, count in (("paced", paced, PACED), ("drain", drain, DRAIN)):
        print(f"{name} {count:,}".ljust(21) + f"{r['commits']:.1f} commits/s, {r['rate']:.1f} messages/s at the "
              f"server; commit->arrival p50 {r['p50']:.2f} s  p95 {r['p95']:.2f} s  max {r['max']:.2f} s; "
              f"delivered {r['delivered']:,}, twice {r['twice']}, lost {r['lost']}, "
              f"later than {WAIT_AFTER:.0f} s {r['late']}; machine load {r['load']}")
    print(f"target               p95 < {TARGET_P95:.0f} s at {RATE:.0f}/s, none lost or twice: "
          + ("met" if ok else "MISSED"))
    print(f"at the server        {len(arrivals):,} messages, {twice} Message-IDs more than once, "
          f"{len(arrivals) - expected:+,} against the {expected:,} committed")
    print(f"outbox status        {dict(Counter(status.values()))}")
    print(f"workers              {jobs_line}")


# -------------------------------------------------------------------- main

def run(app, arrivals: Arrivals, redis: Redis, server_pid: int) -> None:
    threading.Thread(target=sample_load, daemon=True).start()
    tenant_id, recipients = seed(app)
    threading.Thread(target=stand_in_for_autovacuum, daemon=True).start()
    with tempfile.NamedTemporaryFile("w", prefix="bench-notify-workers-", suffix=".log", delete=False) as log:
        procs = start_workers(app_config(app.config["MAIL_URL"]), log, redis)
        try:
            print(f"{WORKERS} workers up; {os.cpu_count()} CPUs shared by every process of this benchmark and "
                  f"anything else running (1-minute load average now {os.getloadavg()[0]:.1f})")
            roles = {"workers": [p.pid for p in procs], "SMTP server": [server_pid], "producer": [os.getpid()]}
            paced = phase(app, arrivals, roles, tenant_id, recipients, PACED, "paced", RATE)
            drain = phase(app, arrivals, roles, tenant_id, recipients, DRAIN, "drain", None)
            jobs_line = worker_stats(redis)
        finally:
            stop(procs)
    if any(p.returncode not in (0, -15) for p in procs):
        raise RuntimeError(f"a worker exited with {[p.returncode for p in procs]}; see {log.name}")
    os.unlink(log.name)  # kept (and named in the error) when something failed
    with app.app_context(), tenant_context(tenant_id):
        status = dict(db.session.execute(select(Notification.id, Notification.status)).all())
    items = arrivals.poll()
    report(analyse(items, paced), analyse(items, drain), items, PACED + DRAIN, status, jobs_line)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress interleaves with Alembic's log on stderr
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the workers and the server
    redis = Redis.from_url(REDIS_URL)
    print(f"redis {REDIS_URL}: FLUSHDB of db {redis.connection_pool.connection_kwargs.get('db', 0)} only")
    redis.flushdb()
    print(f"database {make_url(OWNER_URL).database}: recreating and migrating")
    benchdb.recreate(OWNER_URL, APP_URL)
    with tempfile.NamedTemporaryFile(prefix="bench-notify-smtp-", suffix=".log") as smtp_log:
        server = subprocess.Popen([sys.executable, __file__, "--smtp", smtp_log.name], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            mail_url = server.stdout.readline().strip()
            if not mail_url:
                raise RuntimeError("the SMTP server did not start")
            app = create_app(app_config(mail_url))
            with app.app_context():
                upgrade()
            with open(smtp_log.name) as arrivals:
                run(app, Arrivals(arrivals), redis, server.pid)
        finally:
            server.stdin.close()
            server.wait(20)


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        run_worker()
    elif sys.argv[1:2] == ["--smtp"]:
        run_smtp_server(sys.argv[2])
    else:
        main()
