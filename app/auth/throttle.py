"""Staff sign-in throttling: a progressive delay per account and a limit of
failures per client address, counted in Redis.

Each attempt first *claims* a try in one Lua script (atomic: guesses sent
at the same moment cannot all pass before any is counted). The claim is
refused while the account's delay runs or the address has used up its
failures for the window; otherwise it counts as a failure for both, and a
right password gives the address's count back (``release``) and, once the
sign-in is complete, clears the account's. Nothing sleeps: a refused try is
answered at once with how long to wait.

The account is the email as typed (normalised), whether or not a staff
account has it, so the answers are the same for every email and tell
nobody which exist. An admin can clear an account's delay. Times are the
clinic clock's; Redis expiry only tidies up. If Redis cannot be reached,
sign-in goes on unthrottled (logged): the clinic keeps working.
"""
import hashlib
import logging
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError

from app.core import jobs
from app.core.clock import utcnow
from tenants.context import require_tenant_id

log = logging.getLogger(__name__)

# KEYS: account hash, address counter. ARGV: now (ms), free failures, base delay (ms), longest delay (ms),
# memory (ms: failures older than this are forgotten), address limit, account key ttl (s), address key ttl (s).
# Returns {0, 0} (claimed), {1, ms to wait} (account delay) or {2, 0} (address limit).
_CLAIM = """
local now, free, base, cap, memory = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), tonumber(ARGV[5])
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[6]) then return {2, 0} end
local fails = tonumber(redis.call('HGET', KEYS[1], 'fails') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
if fails > 0 and now - last >= memory then fails = 0 end
if fails >= free then
  local ready = last + math.min(base * 2 ^ (fails - free), cap)
  if now < ready then return {1, math.ceil(ready - now)} end
end
redis.call('HSET', KEYS[1], 'fails', fails + 1, 'last', now)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[8]))
return {0, 0}
"""

_RELEASE = """
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) end
return 1
"""


@dataclass
class Verdict:
    allowed: bool
    reason: str = ""        # why not: "account" (its delay runs) or "address" (too many failures from there)
    wait_seconds: int = 0   # how long until the next try is taken
    keys: tuple[str, str] | None = None  # what a claim counted, for release()


def _config(name: str) -> int:
    return int(current_app.config[name])


def _account_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return jobs.namespaced(f"careloop:signin:account:{require_tenant_id()}:{digest}")


def _address_key(address: str, now_ms: int) -> tuple[str, int]:
    """The address's counter for the current window, and seconds until it ends."""
    window = _config("LOGIN_ADDRESS_WINDOW_SECONDS") * 1000
    index = now_ms // window
    key = jobs.namespaced(f"careloop:signin:address:{require_tenant_id()}:{address or '-'}:{index}")
    return key, -(-((index + 1) * window - now_ms) // 1000)


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def claim(email: str, address: str) -> Verdict:
    """Take one try for ``email`` from ``address``, counted as a failure
    until released; refused while the account waits or the address is spent."""
    now = _now_ms()
    account = _account_key(email)
    address_key, window_left = _address_key(address, now)
    args = [now, _config("LOGIN_FREE_FAILURES"), _config("LOGIN_DELAY_BASE_SECONDS") * 1000,
            _config("LOGIN_DELAY_MAX_SECONDS") * 1000, _config("LOGIN_FAILURE_MEMORY_SECONDS") * 1000,
            _config("LOGIN_ADDRESS_MAX_FAILURES"), _config("LOGIN_FAILURE_MEMORY_SECONDS"),
            _config("LOGIN_ADDRESS_WINDOW_SECONDS") * 2]
    try:
        outcome, wait_ms = jobs.redis_connection().eval(_CLAIM, 2, account, address_key, *args)
    except RedisError:
        log.exception("sign-in throttle unavailable; this try is not counted")
        return Verdict(True)
    if outcome == 1:
        return Verdict(False, "account", max(1, -(-int(wait_ms) // 1000)))
    if outcome == 2:
        return Verdict(False, "address", window_left)
    return Verdict(True, keys=(account, address_key))


def release(verdict: Verdict, *, clear_account: bool) -> None:
    """The try was good: give the address its failure back and, once the
    whole sign-in succeeded, clear the account's count."""
    if verdict.keys is None:
        return
    try:
        jobs.redis_connection().eval(_RELEASE, 2, *verdict.keys, "1" if clear_account else "0")
    except RedisError:
        log.exception("sign-in throttle unavailable")


def clear(email: str) -> None:
    """Lift an account's delay (an admin, or a password reset)."""
    try:
        jobs.redis_connection().delete(_account_key(email))
    except RedisError:
        log.exception("sign-in throttle unavailable")


def failures(emails: list[str]) -> dict[str, int]:
    """Counted failures per email that make it wait now (the free ones left out)."""
    if not emails:
        return {}
    try:
        pipe = jobs.redis_connection().pipeline(transaction=False)
        for email in emails:
            pipe.hmget(_account_key(email), "fails", "last")
        found = pipe.execute()
    except RedisError:
        log.exception("sign-in throttle unavailable")
        return {}
    now, memory, free = _now_ms(), _config("LOGIN_FAILURE_MEMORY_SECONDS") * 1000, _config("LOGIN_FREE_FAILURES")
    counts = {}
    for email, (fails, last) in zip(emails, found):
        if fails is not None and now - int(last or 0) < memory and int(fails) >= free:
            counts[email] = int(fails)
    return counts
