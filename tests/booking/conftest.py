"""Booking fixtures: a clinic with its default weekly slots, packages, dates."""
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests.clock import CLINIC_TZ, clinic_today
from tests.notifications.conftest import as_tenant, drain, mail  # noqa: F401  (shared fixtures)

ITEMS = "血常规: 718-7\n空腹血糖: 14771-0\n总胆固醇: 14647-2"


def open_day(offset: int = 3) -> date:
    """A Monday-to-Saturday date at least ``offset`` days ahead (default slots)."""
    day = clinic_today() + timedelta(days=offset)
    while day.weekday() == 6:
        day += timedelta(days=1)
    return day


FIRST_SLOT = time(7, 30)


@pytest.fixture
def make_package(app):
    from app.booking import services
    from tenants.context import tenant_context
    from tenants.db import db

    def make(tenant, name: str = "入职体检套餐", price: str = "399", **extra):
        data = services.PackageData(name=name, price=price, items=extra.pop("items", ITEMS), **extra)
        with app.app_context(), tenant_context(tenant.id):
            package = services.save_package(data)
            db.session.commit()
            return SimpleNamespace(id=package.id, name=package.name)

    return make


@pytest.fixture
def patient_obj(app):
    """patient_obj(tenant, patient) -> the Patient row (inside as_tenant)."""
    from app.patients import services as patients

    def get(ns):
        return patients.get(ns.id)

    return get


def at_clinic(day: date, hour: int, minute: int = 0) -> datetime:
    """The moment the test clinics' clocks show ``hour:minute`` on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(CLINIC_TZ)).astimezone(timezone.utc)
