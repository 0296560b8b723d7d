"""Application-generated, time-ordered 64-bit ids.

Layout (most significant first): 41 bits of milliseconds since 2024-01-01 UTC,
10 random bits (so separate processes rarely meet), 12 bits of a per-process
counter. Ids sort by creation time, fit a signed BIGINT until about 2093, and
are not a guessable per-table sequence.
"""
import secrets
import threading
import time

EPOCH_MS = 1_704_067_200_000
MAX_ID = 2**63 - 1

_lock = threading.Lock()
_last_ms = 0
_counter = 0
_salt = secrets.randbits(10)


def new_id() -> int:
    global _last_ms, _counter, _salt
    with _lock:
        now = int(time.time() * 1000) - EPOCH_MS
        if now <= _last_ms:
            now = _last_ms
            _counter = (_counter + 1) & 0xFFF
            if _counter == 0:  # 4096 ids in one millisecond: borrow the next one
                now += 1
                _salt = secrets.randbits(10)
        else:
            _counter = 0
            _salt = secrets.randbits(10)
        _last_ms = now
        return (now << 22) | (_salt << 12) | _counter
