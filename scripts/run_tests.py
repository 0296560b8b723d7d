"""`make test`: the whole suite at the default pinned instant, then the tests
marked ``time_sensitive`` again at each instant of tests/clock.py. Both use
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


def run_instants() -> int:
    """Each instant in its own pytest process; a failing one prints its output."""
    pending, running, failed = list(INSTANTS), [], []
    while pending or running:
        while pending and len(running) < PARALLEL:
            instant, zone = pending.pop(0)
            env = dict(os.environ, CARELOOP_TEST_NOW=instant, CARELOOP_TEST_CLINIC_TZ=zone)
            log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed when the run ends)
            process = _pytest(["-m", "time_sensitive", "-q", "-p", "no:cacheprovider"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
            running.append((instant, zone, process, log, time.monotonic()))
        time.sleep(0.5)
        for entry in list(running):
            instant, zone, process, log, started = entry
            code = process.poll()
            if code is None:
                continue
            running.remove(entry)
            log.seek(0)
            output = log.read()
            log.close()
            summary = output.strip().splitlines()[-1] if output.strip() else ""
            print(f"at {instant} ({zone}): {summary} [{time.monotonic() - started:.0f} s]", flush=True)
            if _outcome(code):
                failed.append(instant)
                print("\n".join(output.splitlines()[-120:]), flush=True)
    if failed:
        print(f"time-sensitive tests failed at: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    args = sys.argv[1:]
    if args:
        return _outcome(_pytest(args).wait())
    started = time.monotonic()
    code = _outcome(_pytest(["-n", str(PARALLEL), "--dist", "loadfile"]).wait())
    print(f"the suite took {time.monotonic() - started:.0f} s", flush=True)
    print("\nthe time-sensitive tests at pinned instants:", flush=True)
    return run_instants() or code


if __name__ == "__main__":
    sys.exit(main())
