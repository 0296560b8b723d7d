"""Plan templates: checking a draft field by field, saving, the default pack."""
import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core import audit, clock
from app.core.errors import FieldErrors
from app.followups.models import CHANNELS, REMINDED_CHANNELS, TRIGGERS, FollowupPlan
from tenants import packs
from tenants.db import db

MAX_OFFSET_DAYS = 3 * 365
QUESTIONNAIRE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TASKS = 60


class PlanInvalid(FieldErrors):
    """A plan that cannot be saved, by form field."""


@dataclass
class PlanDraft:
    name: str = ""
    trigger: str = "tag_added"
    trigger_tag: str = ""
    schedule: str = "days"
    interval_days: str = ""
    duration_months: str = ""
    offsets: str = ""           # "7, 30, 90"
    channel: str = "phone"
    max_attempts: str = "3"
    active: bool = True
    remind_patient: bool = False
    questionnaire_key: str = ""
    values: dict = field(default_factory=dict)

    @classmethod
    def of(cls, plan: FollowupPlan) -> "PlanDraft":
        return cls(plan.name, plan.trigger, plan.trigger_tag, plan.schedule, str(plan.interval_days or ""),
                   str(plan.duration_months or ""), ", ".join(str(d) for d in plan.offsets or []), plan.channel,
                   str(plan.max_attempts), plan.active, plan.remind_patient, plan.questionnaire_key)


def _int(text: str, low: int, high: int) -> int | None:
    try:
        number = int(str(text).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def check(draft: PlanDraft, *, plan_id: int | None = None) -> dict:
    """The plan's clean values, or PlanInvalid with a message per field."""
    errors: dict[str, str] = {}
    name = " ".join((draft.name or "").split())
    if not name or len(name) > 80:
        errors["name"] = _("Give the plan a name of at most 80 characters.")
    else:
        clash = select(FollowupPlan.id).where(func.lower(FollowupPlan.name) == name.lower())
        if plan_id:
            clash = clash.where(FollowupPlan.id != plan_id)
        if db.session.scalar(clash):
            errors["name"] = _("Another plan has this name.")
    if draft.trigger not in TRIGGERS:
        errors["trigger"] = _("Choose what starts the plan.")
    tag = " ".join((draft.trigger_tag or "").split())
    if draft.trigger == "tag_added" and not tag:
        errors["trigger_tag"] = _("Name the tag that starts the plan.")
    elif len(tag) > 40:
        errors["trigger_tag"] = _("A tag name has at most 40 characters.")
    values: dict[str, Any] = dict(
        name=name, trigger=draft.trigger, trigger_tag=tag if draft.trigger == "tag_added" else "",
        schedule=draft.schedule, interval_days=None, duration_months=None, offsets=[],
        channel=draft.channel, active=bool(draft.active), remind_patient=bool(draft.remind_patient))
    if draft.schedule == "interval":
        values["interval_days"] = _int(draft.interval_days, 1, 365)
        values["duration_months"] = _int(draft.duration_months, 1, 36)
        if values["interval_days"] is None:
            errors["interval_days"] = _("Enter a whole number of days from 1 to 365.")
        if values["duration_months"] is None:
            errors["duration_months"] = _("Enter a whole number of months from 1 to 36.")
        elif values["interval_days"] and values["duration_months"] * 31 / values["interval_days"] > MAX_TASKS:
            errors["interval_days"] = _("This makes more than %(n)d tasks; choose a longer interval.", n=MAX_TASKS)
    elif draft.schedule == "days":
        parts = [p for p in (draft.offsets or "").replace("，", ",").replace(" ", ",").split(",") if p]
        offsets = [_int(p, 0, MAX_OFFSET_DAYS) for p in parts]
        if not offsets or None in offsets or len(offsets) > MAX_TASKS:
            errors["offsets"] = _("List days after the trigger, e.g. 7, 30, 90 (0 to %(max)d).", max=MAX_OFFSET_DAYS)
        else:
            values["offsets"] = sorted(set(offsets))
    else:
        errors["schedule"] = _("Choose a schedule.")
    if draft.channel not in CHANNELS:
        errors["channel"] = _("Choose how contact is made.")
    elif draft.remind_patient and draft.channel not in REMINDED_CHANNELS:
        errors["remind_patient"] = _("Patients are reminded of phone calls and visits only.")
    values["questionnaire_key"] = ""
    if draft.channel == "form":  # the questionnaires capability offers the keys and sends the step
        key = (draft.questionnaire_key or "").strip()
        if not QUESTIONNAIRE_KEY.match(key):
            errors["questionnaire_key"] = _("Choose the questionnaire the patient is sent.")
        else:
            values["questionnaire_key"] = key
    values["max_attempts"] = _int(draft.max_attempts, 1, 10)
    if values["max_attempts"] is None:
        errors["max_attempts"] = _("Enter a whole number from 1 to 10.")
    if errors:
        raise PlanInvalid(errors)
    return values


def save(values: dict, plan: FollowupPlan | None = None) -> FollowupPlan:
    """Create or update a plan from checked values. The caller commits.
    Tasks already created keep their dates; the change applies to new enrolments."""
    if plan is None:
        plan = FollowupPlan()
        db.session.add(plan)
    for key, value in values.items():
        setattr(plan, key, value)
    db.session.flush()
    audit.record("followup_plan_saved", plan_id=plan.id, name=plan.name)
    return plan


def list_plans() -> list[FollowupPlan]:
    return list(db.session.scalars(select(FollowupPlan).order_by(FollowupPlan.name)))


def get(plan_id: int) -> FollowupPlan | None:
    return db.session.scalar(select(FollowupPlan).where(FollowupPlan.id == plan_id))


def active_for(trigger: str) -> list[FollowupPlan]:
    return list(db.session.scalars(select(FollowupPlan).where(
        FollowupPlan.trigger == trigger, FollowupPlan.active.is_(True)).order_by(FollowupPlan.created_at)))


def due_dates(plan: FollowupPlan, start: date) -> list[date]:
    """When the plan's tasks fall due, counted from ``start``."""
    if plan.schedule == "interval":
        months = plan.duration_months or 0
        end_month = start.month - 1 + months
        year, month = start.year + end_month // 12, end_month % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        end, step = date(year, month, day), max(plan.interval_days or 1, 1)
        found: list[date] = []
        current = start + timedelta(days=step)
        while current <= end and len(found) < MAX_TASKS:
            found.append(current)
            current += timedelta(days=step)
        return found
    return [start + timedelta(days=int(d)) for d in plan.offsets or []]


def install_pack() -> int:
    """Add the pack's plans this clinic does not have yet (by pack key)."""
    have = set(db.session.scalars(select(FollowupPlan.pack_key).where(FollowupPlan.pack_key != "")))
    added = 0
    for spec in packs.load("followup_plans")["plans"]:
        if spec["key"] in have:
            continue
        db.session.add(FollowupPlan(
            name=spec["name"], trigger=spec["trigger"], trigger_tag=spec.get("trigger_tag", ""),
            schedule=spec["schedule"], interval_days=spec.get("interval_days"),
            duration_months=spec.get("duration_months"), offsets=spec.get("offsets", []), channel=spec["channel"],
            max_attempts=spec.get("max_attempts", 3), active=spec.get("active", True),
            remind_patient=spec.get("remind_patient", False), pack_key=spec["key"]))
        added += 1
    db.session.flush()
    return added


def today() -> date:
    return clock.today()
