"""`make test`: the whole suite at the default pinned instant, then the tests
marked ``time_sensitive`` again at each instant of tests/clock.py, and the
isolation and route-walk tests through PgBouncer. Both phases use
one process per core (at most four): the suite through pytest-xdist, a
file's tests in one worker; the instants as separate pytest runs side by
side. Every worker and run has its own database and Redis keys.

On PostgreSQL and Redis when they answer, else on SQLite and an in-process
Redis (then pytest's summary lists what was skipped and why). With
arguments (`make test ARGS="tests/booking -x"`), only that pytest run.
pytest's exit code 5, no test collected, is a failure.
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.clock import INSTANTS  # noqa: E402

PARALLEL = max(2, min(4, os.cpu_count() or 2))


def _pytest(args: list[str], env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env, **popen)


def _outcome(code: int) -> int:
    if code == 5:
        print("no tests were collected: failing", file=sys.stderr)
        return 1
    return code


PGBOUNCER_PORT = "6433"  # scripts/services.sh starts PgBouncer there, in transaction mode
THROUGH_PGBOUNCER = ["tests/tenants/test_isolation.py", "tests/tenants/test_pgbouncer.py", "tests/test_route_walk.py"]


def _pgbouncer_answers() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", int(PGBOUNCER_PORT)), timeout=2).close()
    except OSError:
        return False
    return True


def side_runs() -> list[tuple[str, dict, list[str]]]:
    """(label, environment, pytest arguments): the time-sensitive tests at each pinned instant, and the
    isolation and route-walk tests with the application's connections through PgBouncer."""
    runs = [(f"at {instant} ({zone})", {"CARELOOP_TEST_NOW": instant, "CARELOOP_TEST_CLINIC_TZ": zone},
             ["-m", "time_sensitive"]) for instant, zone in INSTANTS]
    if _pgbouncer_answers() or os.environ.get("REQUIRE_SERVICES") == "1":
        runs.insert(0, (f"through PgBouncer on :{PGBOUNCER_PORT}", {"TEST_PGBOUNCER_PORT": PGBOUNCER_PORT},
                        THROUGH_PGBOUNCER))
    else:
        print(f"no PgBouncer on :{PGBOUNCER_PORT} (scripts/services.sh starts one): not run through it")
    return runs


def run_side_runs() -> int:
    """Each run in its own pytest process, PARALLEL at a time; a failing one prints its output."""
    pending, running, failed = side_runs(), [], []
    while pending or running:
        while pending and len(running) < PARALLEL:
            label, extra, args = pending.pop(0)
            log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed when the run ends)
            process = _pytest([*args, "-q", "-p", "no:cacheprovider"], env=dict(os.environ, **extra),
                              stdout=log, stderr=subprocess.STDOUT)
            running.append((label, process, log, time.monotonic()))
        time.sleep(0.5)
        for entry in list(running):
            label, process, log, started = entry
            code = process.poll()
            if code is None:
                continue
            running.remove(entry)
            log.seek(0)
            output = log.read()
            log.close()
            summary = output.strip().splitlines()[-1] if output.strip() else ""
            print(f"{label}: {summary} [{time.monotonic() - started:.0f} s]", flush=True)
            if _outcome(code):
                failed.append(label)
                print("\n".join(output.splitlines()[-120:]), flush=True)
    if failed:
        print(f"failed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    args = sys.argv[1:]
    if args:
        return _outcome(_pytest(args).wait())
    started = time.monotonic()
    code = _outcome(_pytest(["-n", str(PARALLEL), "--dist", "loadfile"]).wait())
    print(f"the suite took {time.monotonic() - started:.0f} s", flush=True)
    print("\nthrough PgBouncer, and the time-sensitive tests at pinned instants:", flush=True)
    return run_side_runs() or code


if __name__ == "__main__":
    sys.exit(main())
