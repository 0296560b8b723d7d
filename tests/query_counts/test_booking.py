"""The day's schedule and the portal's calendar month (htmx) run as many
statements for 200 bookings as for 20."""
import secrets
from datetime import timedelta

import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, make_package, open_day  # noqa: F401  (shared fixture)
from tests.query_counts.conftest import add_patients

pytestmark = pytest.mark.postgres


def add_bookings(app, tenant, package_id: int, days: list, n: int) -> None:
    """n new patients booked at the first slot, spread over ``days`` (whose first slot is made large
    enough), through the booking capability."""
    from app.booking import availability
    from app.booking import services as booking
    from app.patients import services as patients

    ids = add_patients(app, tenant, n)
    with app.app_context(), tenant_context(tenant.id):
        for day in days:
            slot = availability.slot_on(day, FIRST_SLOT)
            if slot is not None and slot.capacity < 1000:
                booking.add_override(day, slot.start, slot.end, 1000)
        db.session.flush()
        for i, patient_id in enumerate(ids):
            booking.book(package_id, days[i % len(days)], FIRST_SLOT, patients.get(patient_id),
                         idempotency_key=secrets.token_hex(8), actor_type="staff")
        db.session.commit()


def test_schedule(app, make_tenant, make_package, client_for, same_count):
    tenant = make_tenant()
    package = make_package(tenant)
    day = open_day(3)
    owner = client_for(tenant, tenant.owner_email)
    same_count(owner, f"/booking/schedule?day={day.isoformat()}",
               lambda n: add_bookings(app, tenant, package.id, [day], n), shows="测试")


def test_calendar_month(app, make_tenant, make_package, client_for, same_count):
    tenant = make_tenant()
    package = make_package(tenant)
    first = open_day(3)
    days = [d for d in (first + timedelta(days=i) for i in range(31)) if d.month == first.month and d.weekday() != 6]
    anyone = client_for(tenant)
    url = f"/shop/packages/{package.id}?part=calendar&month={first:%Y-%m}"
    same_count(anyone, url, lambda n: add_bookings(app, tenant, package.id, days, n),
               headers={"HX-Request": "true"}, shows=f"day={first.isoformat()}")
    fragment = anyone.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<section id="calendar"'), fragment[:200]  # the month alone, as htmx asks
