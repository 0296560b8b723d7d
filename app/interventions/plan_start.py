"""Starting a plan: the template's goals with the patient's baselines (their
latest results), adjusted by staff on the start form, and its actions; the
schedule of tasks and reminders is made in the same transaction
(plan_schedule). A TCM conditioning plan is built from the patient's latest
constitution result (plan_tcm) and started the same way."""
import calendar
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from app.auth import services as staff
from app.core import audit, clock
from app.core.errors import FieldErrors
from app.interventions import plan_schedule, plan_templates
from app.interventions.plan_models import CarePlan
from app.records import services as records
from tenants.db import db

CLINICAL_ROLES = ("owner", "admin", "doctor", "health_manager")
MAX_TITLE = 120


class PlanError(FieldErrors):
    """A plan that cannot be started or closed, by form field."""


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def responsible_choices() -> list:
    return staff.active_staff(CLINICAL_ROLES)


@dataclass
class Draft:
    """What the start form shows and posts back: the template's goals and actions, baselines filled in."""
    template: dict
    title: str
    goals: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    basis: dict = field(default_factory=dict)


def _target_of(goal: dict, baseline: float | None) -> float | None:
    if goal.get("target") is not None:
        return float(goal["target"])
    if baseline is None:
        return None
    return round(baseline * (1 + goal["relative_pct"] / 100), 1)


def draft(template: dict, patient_id: int, locale: str, *, today: date | None = None) -> Draft:
    today = today or clock.today()
    codes = [g["code"] for g in template.get("goals", []) if g.get("code")]
    latest = records.latest_values(codes, [patient_id]).get(patient_id, {})
    goals = []
    for spec in template.get("goals", []):
        found = latest.get(spec.get("code", ""))
        baseline = round(found.value, 2) if found else None
        indicator = records.indicator_by_code(spec["code"]) if spec.get("code") else None
        names = {"name": {"zh": indicator.name_zh, "en": indicator.name_en}} if indicator is not None else {}
        since = clock.local_date(found.observed_at).isoformat() if found else None
        goals.append(dict(
            spec, **names, baseline=baseline, baseline_at=since,
            target=_target_of(spec, baseline), due=add_months(today, spec["due_months"]).isoformat(), on=True))
    actions = [dict(spec, on=True) for spec in template.get("actions", [])]
    return Draft(template, plan_templates.text(template["title"], locale), goals, actions)


def _number(text: str) -> float | None:
    try:
        value = float((text or "").strip().replace("，", ".").replace(",", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e6 else None  # not NaN, not absurd


def read_form(current: Draft, form, today: date) -> tuple[Draft, dict[str, str]]:
    """The start form's choices over the draft; errors by field, the typing kept in the draft."""
    errors: dict[str, str] = {}
    current.title = (form.get("title") or "").strip()[:MAX_TITLE + 1]
    if not current.title or len(current.title) > MAX_TITLE:
        errors["title"] = _("Enter a title of at most %(n)d characters.", n=MAX_TITLE)
    for goal in current.goals:
        name = f"goal-{goal['key']}"
        goal["on"] = form.get(f"{name}-on") == "1"
        goal["target_text"] = (form.get(f"{name}-target") or "").strip()
        goal["due_text"] = (form.get(f"{name}-due") or "").strip()
        if not goal["on"]:
            continue
        target = _number(goal["target_text"])
        if target is None or target <= 0:
            errors[f"{name}-target"] = _("Enter the target as a number.")
        else:
            goal["target"] = target
        try:
            due = date.fromisoformat(goal["due_text"])
        except ValueError:
            errors[f"{name}-due"] = _("Enter a date like 2026-12-31.")
        else:
            if not today < due <= add_months(today, 24):
                errors[f"{name}-due"] = _("The date must be after today and within two years.")
            else:
                goal["due"] = due.isoformat()
    for action in current.actions:
        name = f"action-{action['key']}"
        action["on"] = form.get(f"{name}-on") == "1"
        text = (form.get(f"{name}-per_week") or "").strip()
        action["per_week_text"] = text
        if action["on"]:
            if not text.isdigit() or not 0 <= int(text) <= 7:
                errors[f"{name}-per_week"] = _("Enter how many times a week, from 0 to 7.")
            else:
                action["per_week"] = int(text)
    if not any(g["on"] for g in current.goals) and not any(a["on"] for a in current.actions):
        errors["goals"] = _("Keep at least one goal or action.")
    return current, errors


def _clean(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in ("on", "target_text", "due_text", "per_week_text")}


def start(patient, current: Draft, *, kind: str, responsible: str, actor_id: int | None,
          today: date | None = None) -> CarePlan:
    """Store the plan, make its schedule, audit it. Raises PlanError. The caller commits."""
    today = today or clock.today()
    errors: dict[str, str] = {}
    people = {str(u.id): u for u in responsible_choices()}
    if responsible not in people:
        errors["responsible"] = _("Choose who is responsible for the plan.")
    if errors:
        raise PlanError(errors)
    goals = [_clean(g) for g in current.goals if g["on"]]
    actions = [_clean(a) for a in current.actions if a["on"]]
    months = current.template.get("months", 3)
    end = max([add_months(today, months)] + [date.fromisoformat(g["due"]) for g in goals])
    plan = CarePlan(patient_id=patient.id, kind=kind, template_key=current.template["key"], title=current.title,
                    status="active", responsible_id=people[responsible].id, start_date=today, end_date=end,
                    goals=goals, actions=actions, basis=current.basis, scheduled={}, outcome="",
                    outcome_note="", started_by=actor_id)
    db.session.add(plan)
    db.session.flush()
    plan_schedule.schedule(plan, patient, current.template.get("checkin_days", []))
    audit.record("care_plan_started", patient_id=patient.id, plan=plan.title, kind=kind,
                 template=current.template["key"])
    return plan
