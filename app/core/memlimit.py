"""Run a function under a memory ceiling: in a forked child whose address
space is capped (RLIMIT_AS), its result pickled back through a pipe.

A parse that would need more than the ceiling fails in the child with
MemoryError (or is killed) and the caller gets ``OutOfMemory``; the process
that asked (a worker, a web process) never grows. The function must be pure
computation: the child shares the parent's open database connections, so it
must not use the database (read what it needs, such as the clinic's time zone,
before calling). On systems without fork the function runs in process.
"""
import os
import pickle
import resource
import sys
import traceback


class OutOfMemory(Exception):
    """The function needed more memory than the ceiling allows."""


class ChildFailed(Exception):
    """The function raised in the child: the text of its exception."""


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")


def available() -> bool:
    return hasattr(os, "fork") and os.path.exists("/proc/self/status")


def run_capped(limit_mb: int, function, *args, **kwargs):
    """``function(*args, **kwargs)`` with at most ``limit_mb`` MB of address space more than
    the caller has now. Returns its result; raises OutOfMemory, or ChildFailed for any other error."""
    if not available():
        return function(*args, **kwargs)
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 0
        try:
            os.close(read_end)
            cap = _vm_size() + limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            try:
                answer = ("ok", function(*args, **kwargs))
            except MemoryError:
                answer = ("memory", None)
            except BaseException as exc:  # noqa: BLE001 - handed to the parent as text
                answer = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}")
            try:
                payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                payload = pickle.dumps(("memory", None))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        except BaseException:  # noqa: BLE001 - the child ends here whatever happened
            status = 1
        finally:
            os._exit(status)  # no atexit, no finalisers: the parent's connections stay untouched
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _pid, status = os.waitpid(pid, 0)
    if not payload:
        if os.WIFSIGNALED(status):  # the kernel's out-of-memory killer, or a crash in C
            raise OutOfMemory(f"the child was ended by signal {os.WTERMSIG(status)}")
        raise ChildFailed(f"the child answered nothing (status {os.waitstatus_to_exitcode(status)})")
    kind, value = pickle.loads(payload)
    if kind == "memory":
        raise OutOfMemory(f"more than {limit_mb} MB")
    if kind == "error":
        raise ChildFailed(value)
    return value
