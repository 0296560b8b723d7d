"""The test clock: every test runs at a pinned instant (time-machine), never
at the wall clock's.

``CARELOOP_TEST_NOW`` names the instant: an ISO time with an offset, or a
clinic wall time without one (in ``CARELOOP_TEST_CLINIC_TZ``, the zone of the
clinics the tests make; Asia/Shanghai unless set). Unset, it is a quiet
Wednesday morning. ``make test`` runs the tests marked ``time_sensitive``
again at each of ``INSTANTS``: both sides of the clinic's midnight (when its
date runs ahead of UTC's), quiet hours, a year's end, a leap day and a
daylight-saving change. Browser tests are not marked: what their pages do
with the date is tested at every instant through the test client, and the
browser tests check the flows in Chromium at the default instant.
"""
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

DEFAULT_NOW = "2026-06-10T10:30:00"
CLINIC_TZ = os.environ.get("CARELOOP_TEST_CLINIC_TZ", "Asia/Shanghai")

# (instant, clinic time zone): what `make test` re-runs the time-sensitive tests at
INSTANTS = [
    # Half a minute before the clinic's midnight (UTC's 15:59:30) and just after it, when the clinic's
    # date is a day ahead of UTC's (as it stays until 08:00 in Beijing).
    ("2026-12-05T23:59:30", "Asia/Shanghai"),
    ("2026-12-06T00:00:30", "Asia/Shanghai"),
    ("2026-12-05T21:30:00", "Asia/Shanghai"),        # quiet hours
    ("2026-12-31T23:59:30", "Asia/Shanghai"),        # the year turns
    ("2027-01-01T00:00:30", "Asia/Shanghai"),
    ("2028-02-28T23:59:30", "Asia/Shanghai"),        # a leap year's 28 Feb -> 29 Feb ...
    ("2028-02-29T23:59:30", "Asia/Shanghai"),        # ... -> 1 Mar
    ("2027-03-27T23:59:30", "Europe/Berlin"),        # the eve of the last Sunday of March (a 23-hour day)
    ("2027-03-28T01:59:30", "Europe/Berlin"),        # just before the clocks go forward
    ("2027-03-28T03:00:30", "Europe/Berlin"),        # just after
]


def pinned_instant() -> datetime:
    text = os.environ.get("CARELOOP_TEST_NOW") or DEFAULT_NOW
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(CLINIC_TZ))


def real_time() -> float:
    """The wall clock's time, for what runs outside this process."""
    return time_machine.escape_hatch.time.time()


def offset_seconds() -> float:
    """How far the pinned clock is from the wall clock now: a helper process
    started now travels by as much, so both keep one time."""
    return datetime.now().timestamp() - real_time()  # clock-ok: the pinned clock, against the wall clock


def travel_by_offset_from_environment() -> None:
    """In a helper process: follow the parent test's clock (CARELOOP_TEST_CLOCK_OFFSET)."""
    import time

    offset = os.environ.get("CARELOOP_TEST_CLOCK_OFFSET")
    if offset:
        time_machine.travel(time.time() + float(offset), tick=True).start()


def clinic_today():
    """The test clinics' calendar day at the pinned clock (not the machine's)."""
    return datetime.now(ZoneInfo(CLINIC_TZ)).date()
