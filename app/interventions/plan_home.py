"""What the patient does in the portal: tick an action done today (one row
per action and day; a second tick is the same row) and record a home
measurement. A measurement is stored through the records as an observation
with origin "patient" (shown as patient-reported wherever results are
shown); storing it sends results-stored, so tags, alerts and risk follow as
for any result. Blood pressure may be typed as "135/85" in the systolic box."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit, clock
from app.core.errors import FieldErrors
from app.interventions.plan_models import CareAdherence, CarePlan
from app.interventions.plan_progress import PATIENT_ORIGIN
from app.records import services as records
from tenants.db import db

# form field -> (LOINC code, unit as stored)
FIELDS = {"systolic": ("8480-6", "mm[Hg]"), "diastolic": ("8462-4", "mm[Hg]"),
          "weight": ("29463-7", "kg"), "glucose": ("14771-0", "mmol/L")}


class ReadingError(FieldErrors):
    pass


@dataclass
class HomeReading:
    systolic: str = ""
    diastolic: str = ""
    weight: str = ""
    glucose: str = ""
    values: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> "HomeReading":
        typed = {name: str(form.get(name) or "").strip()[:20] for name in FIELDS}
        return cls(systolic=typed["systolic"], diastolic=typed["diastolic"], weight=typed["weight"],
                   glucose=typed["glucose"])


def _number(text: str) -> float | None:
    try:
        value = float(text.replace("，", ".").replace(",", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def check(reading: HomeReading) -> dict[str, float]:
    """The numbers by field, each within its indicator's plausible limits; raises ReadingError."""
    if "/" in reading.systolic and not reading.diastolic:  # "135/85" in one box
        reading.systolic, _slash, reading.diastolic = (part.strip() for part in reading.systolic.partition("/"))
    errors, values = {}, {}
    for name, (code, _unit) in FIELDS.items():
        text = getattr(reading, name)
        if not text:
            continue
        number = _number(text)
        indicator = records.indicator_by_code(code)
        limits = (indicator.plausible or {}) if indicator is not None else {}
        low, high = limits.get("low"), limits.get("high")
        if number is None:
            errors[name] = _("Enter a number.")
        elif (low is not None and number < low) or (high is not None and number > high):
            errors[name] = _("Enter a value from %(low)s to %(high)s.", low=f"{low:g}", high=f"{high:g}")
        else:
            values[name] = number
    if ("systolic" in values) != ("diastolic" in values) and not {"systolic", "diastolic"} & set(errors):
        errors["diastolic" if "systolic" in values else "systolic"] = _("Enter both blood pressure values.")
    elif "systolic" in values and "diastolic" in values and values["systolic"] <= values["diastolic"]:
        errors["diastolic"] = _("The lower value (diastolic) must be below the upper (systolic).")
    if not values and not errors:
        errors["systolic"] = _("Enter at least one measurement.")
    if errors:
        raise ReadingError(errors)
    reading.values = values
    return values


def record(patient, reading: HomeReading) -> int:
    """Store the checked values now, as patient-reported results. Returns how many. The caller commits."""
    values = check(reading)
    now = clock.utcnow().replace(microsecond=0)
    rows = []
    for name, number in values.items():
        code, unit = FIELDS[name]
        indicator = records.indicator_by_code(code)
        if indicator is not None:
            rows.append(records.Value(indicator, f"{number:g}", unit, now))
    try:
        records.store_many(patient, rows, origin=PATIENT_ORIGIN)
    except records.catalogue.CatalogueError as exc:
        raise ReadingError({"systolic": str(exc)}) from exc
    audit.record("care_plan_home_reading", patient_id=patient.id, actor_label=audit.PORTAL_ACTOR,
                 count=len(rows))
    return len(rows)


def tick(plan: CarePlan, action_key: str, done: bool, day: date | None = None) -> bool:
    """Mark the action done (or not) on the day (today). False for an action the plan has not. The caller commits."""
    if plan.status != "active" or action_key not in {a["key"] for a in plan.actions}:
        return False
    day = day or clock.today()
    row = db.session.scalar(select(CareAdherence).where(CareAdherence.plan_id == plan.id,
                                                        CareAdherence.action_key == action_key,
                                                        CareAdherence.day == day))
    if row is None:
        db.session.add(CareAdherence(plan_id=plan.id, action_key=action_key, day=day, done=done))
    else:
        row.done, row.recorded_at = done, clock.utcnow()
    return True


def done_today(plan: CarePlan, day: date | None = None) -> set[str]:
    day = day or clock.today()
    return set(db.session.scalars(select(CareAdherence.action_key).where(
        CareAdherence.plan_id == plan.id, CareAdherence.day == day, CareAdherence.done.is_(True))))


def done_this_week(plan: CarePlan, day: date | None = None) -> dict[str, int]:
    """Ticks per action in the plan's week that holds ``day`` (weeks count from the plan's start)."""
    day = day or clock.today()
    start = plan.start_date + timedelta(days=7 * max(0, (day - plan.start_date).days // 7))
    counts: dict[str, int] = {}
    for key in db.session.scalars(select(CareAdherence.action_key).where(
            CareAdherence.plan_id == plan.id, CareAdherence.day >= start, CareAdherence.day <= day,
            CareAdherence.done.is_(True))):
        counts[key] = counts.get(key, 0) + 1
    return counts
