"""`make test`: the whole suite, on PostgreSQL and Redis when they answer,
else on SQLite and an in-process Redis (then pytest's summary lists what was
skipped and why). pytest's exit code 5, no test collected, is a failure."""
import subprocess
import sys


def main() -> int:
    code = subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]])
    if code == 5:
        print("no tests were collected: failing", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
