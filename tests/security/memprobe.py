"""Run import parsers on files in a fresh process and report each one's peak memory.

``python -m tests.security.memprobe DOOR:FILE:NAME ...`` prints one JSON line per file:
``{"growth_mb": ..., "reports": n, "errors": [...], "exception": "..."}``. DOOR is
``fhir``, ``hl7`` or ``import`` (importer.parse, what an upload goes through). The
peak resident size is reset before each file (/proc/self/clear_refs) and the process
caps its own address space (CAP_MB over what it had) so that a parser that would eat
the machine fails here with MemoryError instead.
"""
import json
import resource
import sys
import time

CAP_MB = 1200


def _status(key: str) -> int:
    """A figure of /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM, the peak resident size, to the current one


def probe(door: str, path: str, name: str) -> dict:
    from app.records import importer
    from app.records.parse_fhir import parse_fhir
    from app.records.parse_hl7 import parse_hl7
    from app.records.parsed import ParseError

    with open(path, "rb") as source:
        data = source.read()
    _reset_peak()
    baseline = _status("VmRSS")
    started = time.monotonic()
    outcome: dict = {"exception": ""}
    try:
        parser = {"fhir": parse_fhir, "hl7": parse_hl7}.get(door)
        items = parser(data) if parser else importer.parse(data, name)
    except importer.FileTypeError as exc:
        items = [ParseError("file", str(exc))]
    except BaseException as exc:  # noqa: BLE001 - the probe reports whatever escaped
        items = []
        outcome["exception"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    outcome.update(growth_mb=round((_status("VmHWM") - baseline) / 2**20, 1),
                   seconds=round(time.monotonic() - started, 2),
                   reports=sum(not isinstance(i, ParseError) for i in items),
                   errors=[str(i)[:300] for i in items if isinstance(i, ParseError)][:5])
    return outcome


if __name__ == "__main__":
    import app.records.importer  # noqa: F401 - imported before the cap and the first measure

    cap = _status("VmSize") + CAP_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for argument in sys.argv[1:]:
        door, path, name = argument.split(":", 2)
        print(json.dumps(dict(probe(door, path, name), name=name), ensure_ascii=False), flush=True)
