"""Exam packages and the clinic's capacity rules; the booking API others use.

Views and the portal call this module; orders and availability live in
their own modules and are re-exported here.
"""
import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from app.booking import availability, desk, labels, orders, payments  # noqa: F401  (re-exported API; labels: how others name statuses)
from app.booking.availability import BookingRefused, DayState, Month, NeedsConfirmation, SlotState  # noqa: F401
from app.booking.models import (
    CATEGORIES,
    SEX_RULES,
    BookingSettings,
    ClosedDay,
    ExamPackage,
    Order,
    SlotOverride,  # noqa: F401
    SlotTemplate,
)
from app.booking.notices import preparation  # noqa: F401  (what the shop shows before booking)
from app.booking.orders import (  # noqa: F401
    HOLDING,
    STATUSES,
    TRANSITIONS,
    book,
    book_once,
    cancel,
    mark_paid,
    reschedule,
    transition,
)
from app.booking.signals import order_completed, order_placed  # noqa: F401  (others listen)
from app.core.errors import FieldErrors
from app.records import services as records
from tenants import packs
from tenants.db import db

MAX_PRICE_FEN = 100_000_000  # ¥1,000,000


class BookingError(FieldErrors):
    """Bad package or capacity settings, by form field."""


def format_fen(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


# ---------------------------------------------------------------- packages

@dataclass
class PackageData:
    name: str
    price: str                   # yuan as typed, e.g. "1280" or "1280.50"
    # [{"name": "血常规", "codes": ["718-7", ...]}] as the package page sends them, or the older text
    # form, one per line: "血常规: 718-7, 789-8"
    items: str | list[dict]
    category: str = "general"
    description: str = ""
    sex: str = ""
    age_min: int | None = None
    age_max: int | None = None
    fasting: bool = False
    no_alcohol: bool = False
    preparation: str = ""
    daily_limit: int | None = None


def parse_price(raw: str) -> int:
    text = (raw or "").strip().replace(",", "").lstrip("¥￥")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter the price in yuan, like 1280 or 1280.50.")) from None
    if not value.is_finite() or value < 0 or int(value.as_tuple().exponent) < -2:  # "inf", "NaN": no amount
        raise ValueError(_("Enter the price in yuan, like 1280 or 1280.50."))
    if value > Decimal(MAX_PRICE_FEN) / 100:  # before multiplying: "1e999999" is finite and enormous
        raise ValueError(_("The price is too high."))
    fen = int(value * 100)
    if fen > MAX_PRICE_FEN:
        raise ValueError(_("The price is too high."))
    return fen


def parse_items(text: str) -> tuple[list[dict], list[str]]:
    """Lines "name: code, code" -> items, and the codes not in the catalogue."""
    items, unknown = [], []
    for line in (text or "").splitlines():
        name, _sep, codes = line.replace("：", ":").partition(":")
        name = name.strip()
        if not name:
            continue
        code_list = [c for c in re.split(r"[,，\s]+", codes.strip()) if c]
        unknown += [c for c in code_list if records.indicator_by_code(c) is None]
        items.append({"name": name[:80], "codes": code_list})
    return items, unknown


MAX_ITEMS = 100
_MARKUP = re.compile(r"[<>\x00-\x1f\x7f]")


def check_items(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Items chosen on the package page -> the items kept (named ones), and the codes not in the catalogue."""
    items, unknown = [], []
    for row in rows[:MAX_ITEMS + 1]:
        name = " ".join((row.get("name") or "").split())
        if not name:
            continue
        codes = [c.strip() for c in row.get("codes") or [] if c.strip()][:20]
        unknown += [c for c in codes if len(c) > 40 or records.indicator_by_code(c) is None]
        items.append({"name": name[:80], "codes": codes})
    return items, unknown


def check_package_items(rows: list[dict]) -> None:
    """The exam items' own checks (for a page whose other fields failed first); raise BookingError."""
    items, unknown = check_items(rows)
    error = _items_error(items, unknown, text=False)
    if error:
        raise BookingError({"items": error})


def _items_error(items: list[dict], unknown: list[str], *, text: bool) -> str:
    if not items:
        return _("List at least one exam item, one per line.") if text else _("Add at least one exam item.")
    if len(items) > MAX_ITEMS:
        return _("A package holds at most %(n)d items.", n=MAX_ITEMS)
    if any(_MARKUP.search(item["name"]) for item in items):
        return _("Item names take plain text: please remove angle brackets and control characters.")
    if unknown:
        return _("Not in the indicator catalogue: %(codes)s.", codes=", ".join(unknown))
    return ""


def _validate(data: PackageData, package: ExamPackage | None) -> dict:
    errors: dict[str, str] = {}
    values: dict = {}
    values["name"] = " ".join((data.name or "").split())
    if not values["name"]:
        errors["name"] = _("Name is required.")
    else:
        clash = db.session.scalar(select(ExamPackage.id).where(ExamPackage.name == values["name"]))
        if clash is not None and (package is None or clash != package.id):
            errors["name"] = _("Another package has this name.")
    try:
        values["price_fen"] = parse_price(data.price)
    except ValueError as exc:
        errors["price"] = str(exc)
    text = isinstance(data.items, str)
    items, unknown = parse_items(data.items) if isinstance(data.items, str) else check_items(data.items)
    if error := _items_error(items, unknown, text=text):
        errors["items"] = error
    values["items"] = items
    if data.category not in CATEGORIES:
        errors["category"] = _("Please choose a category.")
    if data.sex not in SEX_RULES:
        errors["sex"] = _("Please choose who may book.")
    for field in ("age_min", "age_max"):
        value = getattr(data, field)
        if value is not None and not 0 <= value <= 120:
            errors[field] = _("Age must be between 0 and 120.")
    if data.age_min is not None and data.age_max is not None and data.age_min > data.age_max \
            and "age_max" not in errors:
        errors["age_max"] = _("The highest age is below the lowest.")
    if data.daily_limit is not None and not 1 <= data.daily_limit <= 10_000:
        errors["daily_limit"] = _("A daily limit is between 1 and 10000; leave it empty for no limit.")
    values.update(category=data.category, description=(data.description or "").strip(), sex=data.sex,
                  age_min=data.age_min, age_max=data.age_max, fasting=bool(data.fasting),
                  no_alcohol=bool(data.no_alcohol), preparation=(data.preparation or "").strip(),
                  daily_limit=data.daily_limit)
    if errors:
        raise BookingError(errors)
    return values


def save_package(data: PackageData, package: ExamPackage | None = None) -> ExamPackage:
    """Create (package None) or edit a package. The caller commits."""
    values = _validate(data, package)
    if package is None:
        package = ExamPackage(active=True)
        db.session.add(package)
    for key, value in values.items():
        setattr(package, key, value)
    db.session.flush()
    return package


def set_active(package: ExamPackage, active: bool) -> None:
    package.active = active


def get_package(package_id: int, *, active_only: bool = False) -> ExamPackage | None:
    query = select(ExamPackage).where(ExamPackage.id == package_id)
    if active_only:
        query = query.where(ExamPackage.active.is_(True))
    return db.session.scalar(query)


def list_packages(*, active_only: bool = True, category: str = "", sex: str = "") -> list[ExamPackage]:
    query = select(ExamPackage).order_by(ExamPackage.category, ExamPackage.price_fen, ExamPackage.name)
    if active_only:
        query = query.where(ExamPackage.active.is_(True))
    if category in CATEGORIES:
        query = query.where(ExamPackage.category == category)
    if sex in ("M", "F"):
        query = query.where(ExamPackage.sex.in_(("", sex)))
    return list(db.session.scalars(query))


def bookable_for(packages: list[ExamPackage], patient) -> tuple[list[ExamPackage], list[tuple[ExamPackage, str]]]:
    """The packages this patient can book (by sex and age today), and the
    others each with the reason they cannot."""
    bookable, refused = [], []
    for package in packages:
        refusal = availability.eligibility_refusal(package, patient.sex, patient.birth_date)
        if refusal is None:
            bookable.append(package)
        else:
            refused.append((package, refusal.message))
    return bookable, refused


# ---------------------------------------------------------------- capacity

def settings() -> BookingSettings:
    return availability.settings()


def update_settings(*, horizon_days: int, cutoff_days: int, cutoff_time: time, cancel_cutoff_days: int,
                    cancel_cutoff_time: time, daily_capacity: int | None) -> BookingSettings:
    errors = {}
    if not 1 <= horizon_days <= 365:
        errors["horizon_days"] = _("Between 1 and 365 days.")
    for field, value in (("cutoff_days", cutoff_days), ("cancel_cutoff_days", cancel_cutoff_days)):
        if not 0 <= value <= 30:
            errors[field] = _("Between 0 and 30 days.")
    if daily_capacity is not None and not 1 <= daily_capacity <= 100_000:
        errors["daily_capacity"] = _("Between 1 and 100000; leave it empty for no daily limit.")
    if errors:
        raise BookingError(errors)
    row = db.session.scalar(select(BookingSettings))
    if row is None:
        row = BookingSettings()
        db.session.add(row)
    row.horizon_days, row.cutoff_days, row.cutoff_time = horizon_days, cutoff_days, cutoff_time
    row.cancel_cutoff_days, row.cancel_cutoff_time = cancel_cutoff_days, cancel_cutoff_time
    row.daily_capacity = daily_capacity
    availability.forget_settings()
    return row


def _check_times(start: time | None, end: time | None, capacity: int | None) -> dict:
    errors = {}
    if start is None:
        errors["start"] = _("Start time is required.")
    if end is None:
        errors["end"] = _("End time is required.")
    elif start is not None and end <= start:
        errors["end"] = _("The slot must end after it starts.")
    if capacity is None or not 0 <= capacity <= 10_000:
        errors["capacity"] = _("Places: a number from 0 to 10000.")
    return errors


def add_slot(weekday: int, start: time, end: time, capacity: int) -> SlotTemplate:
    errors = _check_times(start, end, capacity)
    if weekday not in range(7):
        errors["weekday"] = _("Please choose a weekday.")
    elif start is not None and db.session.scalar(select(SlotTemplate.id).where(
            SlotTemplate.weekday == weekday, SlotTemplate.start == start)):
        errors["start"] = _("A slot starts at this time on this weekday already.")
    if errors:
        raise BookingError(errors)
    slot = SlotTemplate(weekday=weekday, start=start, end=end, capacity=capacity)
    db.session.add(slot)
    return slot


def add_override(day: date, start: time, end: time, capacity: int) -> SlotOverride:
    errors = _check_times(start, end, capacity)
    if day is None:
        errors["day"] = _("Date is required.")
    elif start is not None and db.session.scalar(select(SlotOverride.id).where(
            SlotOverride.day == day, SlotOverride.start == start)):
        errors["start"] = _("This date has a change for this start time already.")
    if errors:
        raise BookingError(errors)
    row = SlotOverride(day=day, start=start, end=end, capacity=capacity)
    db.session.add(row)
    return row


def add_closed_day(day: date, reason: str | None) -> ClosedDay:
    if day is None:
        raise BookingError({"day": _("Date is required.")})
    if db.session.scalar(select(ClosedDay.id).where(ClosedDay.day == day)):
        raise BookingError({"day": _("This date is closed already.")})
    row = ClosedDay(day=day, reason=(reason or "").strip()[:80])
    db.session.add(row)
    return row


def remove(model, row_id: int) -> bool:
    """Delete a slot, an override or a closed day; orders keep their places."""
    row = db.session.scalar(select(model).where(model.id == row_id))
    if row is None:
        return False
    db.session.delete(row)
    return True


def capacity_rules(today: date) -> dict:
    return {
        "slots": availability.templates(),
        "overrides": list(db.session.scalars(select(SlotOverride).where(SlotOverride.day >= today)
                                             .order_by(SlotOverride.day, SlotOverride.start))),
        "closed": list(db.session.scalars(select(ClosedDay).where(ClosedDay.day >= today).order_by(ClosedDay.day))),
    }


def install_defaults() -> int:
    """A new clinic's weekly slots from the pack (only if it has none)."""
    if db.session.scalar(select(SlotTemplate.id).limit(1)) is not None:
        return 0
    pack = packs.load("booking_defaults")
    count = 0
    for weekday in pack["weekdays"]:
        for slot in pack["slots"]:
            db.session.add(SlotTemplate(weekday=weekday, start=time.fromisoformat(slot["start"]),
                                        end=time.fromisoformat(slot["end"]), capacity=slot["capacity"]))
            count += 1
    return count


# ------------------------------------------------------------------ orders

def get_order(order_id: int) -> Order | None:
    return orders.get(order_id)


def completed_of_package(package_id: int, since: date, until: date) -> list[tuple[int, date]]:
    """(patient id, exam day) of the package's completed orders on days since–until, by day: a group exam
    (团检) sold as a package of its own."""
    return [(row.patient_id, row.day) for row in db.session.execute(
        select(Order.patient_id, Order.day).where(Order.package_id == package_id, Order.status == "completed",
                                                  Order.day >= since, Order.day <= until)
        .order_by(Order.day, Order.start, Order.id))]


@dataclass
class ScheduleRow:
    start: time
    end: time
    capacity: int | None  # None: a booking outside today's slots (the slot was removed)
    orders: list

    @property
    def taken(self) -> int:
        return sum(o.status not in ("cancelled", "refunded") for o in self.orders)


def schedule(day: date) -> list[ScheduleRow]:
    """The day's bookings grouped by slot (slots without bookings too)."""
    slots = {s.start: s for s in availability.slots_for(day, day)[day]}
    booked = orders.on_day(day)
    rows = []
    for start in sorted(set(slots) | {o.start for o in booked}):
        mine = [o for o in booked if o.start == start]
        slot = slots.get(start)
        rows.append(ScheduleRow(start, slot.end if slot else mine[0].end, slot.capacity if slot else None, mine))
    return rows
