"""The clinic clock: each clinic's day in its own time zone, everywhere."""
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core import clock
from app.records.parse_hl7 import parse_ts
from tenants.context import tenant_context
from tenants.db import UTCDateTime

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")


def test_a_reading_typed_early_in_the_morning_is_under_the_clinics_date(
        make_tenant, make_patient, client_for, pinned_clock):
    """07:47 on 5 December in Beijing is still 4 December in UTC."""
    pinned_clock.move_to(datetime(2026, 12, 5, 7, 47, tzinfo=SHANGHAI))
    tenant = make_tenant(timezone="Asia/Shanghai")
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    form = client.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    weight = re.search(r'<label for="v-(\d+)">Weight</label>', form).group(1)
    assert 'value="2026-12-05"' in form  # the date field starts at the clinic's today
    saved = client.submit(f"/patients/{patient.id}/observations", {"observed_on": "2026-12-05", f"v-{weight}": "70"})
    assert saved.status_code in (200, 302), saved.get_data(as_text=True)[:500]
    page = client.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    assert ">2026-12-05</th>" in page and "2026-12-04" not in page


def test_today_and_day_bounds_follow_the_clinics_zone(app, make_tenant, pinned_clock):
    pinned_clock.move_to(datetime(2026, 12, 5, 16, 30, tzinfo=timezone.utc))  # 00:30 on the 6th in Beijing
    beijing, berlin = make_tenant(timezone="Asia/Shanghai"), make_tenant(timezone="Europe/Berlin")
    with app.app_context():
        assert clock.today(beijing.id) == date(2026, 12, 6)
        assert clock.today(berlin.id) == date(2026, 12, 5)
        start, end = clock.day_bounds(date(2026, 12, 6), beijing.id)
        assert start == datetime(2026, 12, 5, 16, 0, tzinfo=timezone.utc) and end - start == timedelta(hours=24)


def test_the_day_the_clocks_go_forward_has_23_hours(app, make_tenant):
    berlin = make_tenant(timezone="Europe/Berlin")
    with app.app_context():
        start, end = clock.day_bounds(date(2027, 3, 28), berlin.id)
        assert end - start == timedelta(hours=23)
        assert start == datetime(2027, 3, 27, 23, 0, tzinfo=timezone.utc)
        # 02:30 does not exist that night: it counts as after the change
        assert clock.local(clock.at(date(2027, 3, 28), time(2, 30), berlin.id), berlin.id).time() == time(3, 30)
        autumn_start, autumn_end = clock.day_bounds(date(2027, 10, 31), berlin.id)
        assert autumn_end - autumn_start == timedelta(hours=25)


def test_lab_times_without_an_offset_are_the_clinics(app, make_tenant):
    berlin = make_tenant(timezone="Europe/Berlin")
    with app.app_context(), tenant_context(berlin.id):
        assert parse_ts("202406011030") == datetime(2024, 6, 1, 10, 30, tzinfo=BERLIN)
        assert parse_ts("202406011030+0800") == datetime(2024, 6, 1, 2, 30, tzinfo=timezone.utc)


def test_ages_turn_on_the_clinics_day(app, make_tenant, pinned_clock):
    """Born 6 December 1966: 60 once 6 December has begun in Beijing, though UTC is still on the 5th."""
    pinned_clock.move_to(datetime(2026, 12, 5, 16, 30, tzinfo=timezone.utc))
    tenant = make_tenant(timezone="Asia/Shanghai")
    with app.app_context(), tenant_context(tenant.id):
        assert clock.age(date(1966, 12, 6)) == 60
        assert clock.age(date(1966, 12, 7)) == 59


def test_the_owner_moves_the_clinics_clock(app, make_tenant, make_staff, client_for, pinned_clock):
    pinned_clock.move_to(datetime(2026, 12, 5, 23, 30, tzinfo=timezone.utc))  # Beijing: 6th; Berlin: 6th 00:30
    tenant = make_tenant(timezone="Asia/Shanghai")
    doctor = make_staff(tenant, "doctor")
    assert client_for(tenant, doctor.email).get("/settings/clinic").status_code == 403
    owner = client_for(tenant, tenant.owner_email)
    owner.submit("/lang/en")
    page = owner.get("/settings/clinic").get_data(as_text=True)
    assert '<option selected value="Asia/Shanghai">' in page
    bad = owner.submit("/settings/clinic", {"timezone": "Mars/Olympus"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Choose a time zone from the list." in body.split('id="timezone-error"', 1)[1].split("</p>", 1)[0]
    saved = owner.submit("/settings/clinic", {"timezone": "Europe/Berlin"})
    assert saved.status_code == 302
    with app.app_context():
        assert clock.zone_name(tenant.id) == "Europe/Berlin"
        assert clock.now(tenant.id).strftime("%Y-%m-%d %H:%M") == "2026-12-06 00:30"
    trail = owner.get("/audit").get_data(as_text=True)
    assert "Changed the clinic profile" in trail


def test_sqlite_keeps_times_with_their_offset():
    engine = sa.create_engine("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", UTCDateTime))
    table.create(engine)
    moment = datetime(2026, 12, 5, 7, 47, tzinfo=SHANGHAI)
    with engine.begin() as conn:
        conn.execute(table.insert(), {"at": moment})
        assert conn.execute(sa.text("SELECT at FROM t")).scalar() == "2026-12-04 23:47:00.000000+00:00"
        read = conn.execute(table.select()).scalar()
        assert read == moment and read.tzinfo == timezone.utc
        with pytest.raises(sa.exc.StatementError):
            conn.execute(table.insert(), {"at": datetime(2026, 12, 5, 7, 47)})  # naive: which zone?


def test_a_tags_evidence_is_dated_by_the_clinics_day(app, make_tenant):
    from app.tagging.conditions import _when

    tenant = make_tenant(timezone="Asia/Shanghai")
    with app.app_context(), tenant_context(tenant.id):
        assert _when("2024-05-05T16:30:00+00:00") == "2024-05-06"   # PostgreSQL's JSON
        assert _when("2024-05-05 16:30:00.000000") == "2024-05-06"  # SQLite's, stored in UTC
