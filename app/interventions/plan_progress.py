"""How a plan is going: each goal's values since its baseline against its
target (a server-rendered SVG from the records' charts, the same markup in a
PDF), whether the latest value meets it, and the adherence to each action
(the patient's ticks against the times a week planned). Weekly active
minutes are counted from the ticks of exercise actions that say how long
they last."""
import operator
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from app.core import clock
from app.interventions import plan_templates
from app.interventions.plan_models import CareAdherence, CarePlan
from app.records import services as records
from tenants.db import db

COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
SYMBOL = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}
PATIENT_ORIGIN = "patient"  # Observation.origin of a home measurement the patient recorded in the portal


@dataclass
class Reading:
    when: date
    value: float
    text: str
    patient_reported: bool = False


@dataclass
class GoalProgress:
    goal: dict
    name: str
    unit: str
    target_text: str
    baseline_text: str
    readings: list[Reading] = field(default_factory=list)
    met: bool | None = None  # None: no value since the start
    chart: Markup = Markup("")


@dataclass
class ActionAdherence:
    action: dict
    text: str
    done: int
    planned: int

    @property
    def percent(self) -> int | None:
        return round(100 * min(self.done, self.planned) / self.planned) if self.planned else None


def ticks(plan: CarePlan) -> list[CareAdherence]:
    return list(db.session.scalars(select(CareAdherence).where(CareAdherence.plan_id == plan.id,
                                                               CareAdherence.done.is_(True))
                                   .order_by(CareAdherence.day)))


def _until(plan: CarePlan, today: date) -> date:
    return min(today, plan.end_date)


def weekly_minutes(plan: CarePlan, done: list[CareAdherence], today: date) -> list[Reading]:
    minutes = {a["key"]: a.get("minutes", 0) for a in plan.actions if a.get("kind") == "exercise"}
    weeks: dict[date, float] = {}
    week = plan.start_date
    while week <= _until(plan, today):
        weeks[week] = 0
        week += timedelta(days=7)
    for tick in done:
        if minutes.get(tick.action_key):
            start = plan.start_date + timedelta(days=7 * ((tick.day - plan.start_date).days // 7))
            if start in weeks:
                weeks[start] += minutes[tick.action_key]
    return [Reading(day, total, f"{total:g}") for day, total in weeks.items()]


def _observations(plan: CarePlan, code: str) -> list[Reading]:
    Observation, Indicator = records.Observation, records.Indicator  # noqa: N806
    since = plan.start_date
    for goal in plan.goals:
        if goal.get("code") == code and goal.get("baseline_at"):
            since = min(since, date.fromisoformat(goal["baseline_at"]))
    start, _end = clock.day_bounds(since)
    rows = db.session.execute(
        select(Observation.observed_at, Observation.value, Observation.origin, Indicator.decimals)
        .join(Indicator, (Indicator.id == Observation.indicator_id) & (Indicator.tenant_id == Observation.tenant_id))
        .where(Observation.patient_id == plan.patient_id, Indicator.code == code,
               Observation.superseded_by.is_(None), Observation.value.is_not(None), Observation.observed_at >= start)
        .order_by(Observation.observed_at, Observation.id)).all()
    return [Reading(clock.local_date(at), value, records.format_value(value, decimals), origin == PATIENT_ORIGIN)
            for at, value, origin, decimals in rows]


def _names(codes) -> dict[str, tuple[str, str]]:
    found = {}
    for code in codes:
        indicator = records.indicator_by_code(code)
        if indicator is not None:
            found[code] = (indicator.name_zh, indicator.name_en)
    return found


def goals(plan: CarePlan, locale: str, *, today: date | None = None, done: list | None = None) -> list[GoalProgress]:
    today = today or clock.today()
    done = ticks(plan) if done is None else done
    names = _names(g["code"] for g in plan.goals if g.get("code"))
    shown = []
    for goal in plan.goals:
        if goal.get("code"):
            zh, en = names.get(goal["code"], (goal["code"], goal["code"]))
            name = en if str(locale).startswith("en") else zh
            readings = _observations(plan, goal["code"])
            after_start = [r for r in readings if r.when >= plan.start_date]
        else:
            name = _("Active minutes a week")
            readings = after_start = weekly_minutes(plan, done, today)
            if after_start and after_start[-1].when + timedelta(days=7) > _until(plan, today) + timedelta(days=1):
                after_start = after_start[:-1]  # the week under way is not over: not judged yet
        unit = records.unit_display(goal.get("unit", ""), str(locale)) if goal.get("code") else _("min/week")
        target = goal.get("target")
        progress = GoalProgress(goal, name, unit, f"{SYMBOL[goal['comparator']]} {target:g} {unit}".strip()
                                if target is not None else "—",
                                "" if goal.get("baseline") is None else f"{goal['baseline']:g} {unit}".strip(),
                                readings)
        if after_start and target is not None:
            progress.met = COMPARE[goal["comparator"]](after_start[-1].value, target)
        progress.chart = chart(progress, locale)
        shown.append(progress)
    return shown


def chart(progress: GoalProgress, locale: str) -> Markup:
    target = progress.goal.get("target")
    below = progress.goal["comparator"] in ("lt", "le")
    points = [records.charts.ChartPoint(r.when, r.value, False) for r in progress.readings]
    svg = records.charts.trend_svg(
        points, title=progress.name, unit=progress.goal.get("unit", "") if progress.goal.get("code") else "",
        ref_low=None if below else target, ref_high=target if below else None,
        locale="en" if str(locale).startswith("en") else "zh_CN", band_word=_("Target"))
    return Markup(svg)  # built from escaped parts


def adherence(plan: CarePlan, locale: str, *, today: date | None = None,
              done: list | None = None) -> list[ActionAdherence]:
    today = today or clock.today()
    done = ticks(plan) if done is None else done
    days = max(0, (_until(plan, today) - plan.start_date).days + 1)
    counts: dict[str, int] = {}
    for tick in done:
        counts[tick.action_key] = counts.get(tick.action_key, 0) + 1
    return [ActionAdherence(a, plan_templates.text(a["text"], locale), counts.get(a["key"], 0),
                            round(a.get("per_week", 0) * days / 7)) for a in plan.actions]
