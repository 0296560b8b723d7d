"""The draft of a stage summary: plain text from sentence templates in the patient's language, with the numbers
of the period in it. No model writes it: the same data always gives the same draft, which the doctor then
edits and signs.

A period's value of an indicator is compared with the value before the period (the latest before its first
day) or, when there is none, the first value in the period; "at the end" is the latest value in the period.
"""
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from app.core import clock
from app.followups import services as followups
from app.interventions import services as interventions
from app.records import services as records
from app.records.services import Observation
from app.reports import sentences, styles
from app.risk import services as risk

ABNORMAL = records.trends.ABNORMAL
QUESTIONNAIRE_GROUP = "questionnaire"


@dataclass
class Change:
    name: str
    group: str
    unit: str
    decimals: int
    first: Observation  # the value before the period, or the period's first
    last: Observation   # the period's latest
    from_before: bool  # first is the value before the period


def _changes(patient_id: int, start: date, end: date, locale: str) -> list[Change]:
    before: dict[int, Observation] = {}
    first: dict[int, Observation] = {}
    last: dict[int, Observation] = {}
    indicators = {}
    for observation, indicator in records.history(patient_id):  # oldest first
        if observation.origin == interventions.PATIENT_ORIGIN and indicator.group != QUESTIONNAIRE_GROUP:
            continue  # home readings are the plan's, not the summary's measurements
        day = clock.local_date(observation.observed_at)
        if day < start:
            before[indicator.id] = observation
        elif day <= end:
            first.setdefault(indicator.id, observation)
            last[indicator.id] = observation
            indicators[indicator.id] = indicator
    out = []
    for indicator_id, end_value in last.items():
        indicator = indicators[indicator_id]
        earlier = before.get(indicator_id)
        out.append(Change(indicator.name_zh if locale == "zh_CN" else indicator.name_en, indicator.group,
                          records.unit_display(indicator.unit, locale), indicator.decimals,
                          earlier or first[indicator_id], end_value, earlier is not None))
    return sorted(out, key=lambda c: (c.group, c.name))


def _shown(observation, change: Change) -> str:
    if observation.value is None:
        return observation.value_text
    return records.format_value(observation.value, change.decimals)


def _status(observation) -> str:
    if observation.flag in ABNORMAL:
        return records.flag_words(observation.flag)
    return _("within the reference interval") if observation.flag == "N" else _("no reference interval")


def _direction(change: Change) -> str:
    a, b = change.first.value, change.last.value
    if a is None or b is None or _shown(change.first, change) == _shown(change.last, change):
        return _("unchanged")
    return _("up") if b > a else _("down")


def _measurement_line(change: Change) -> str:
    unit = f" {change.unit}" if change.unit else ""
    if change.first is change.last:
        return _say("measurement", name=change.name, value=_shown(change.last, change), unit=unit,
                    status=_status(change.last))
    return _say("measurement_change", name=change.name, first=_shown(change.first, change),
                last=_shown(change.last, change), unit=unit, direction=_direction(change), status=_status(change.last))


def _abnormality_lines(changes: list[Change]) -> list[str]:
    new = [c.name for c in changes if c.last.flag in ABNORMAL and not (c.from_before and c.first.flag in ABNORMAL)]
    persisting = [c.name for c in changes if c.last.flag in ABNORMAL and c.from_before and c.first.flag in ABNORMAL]
    resolved = [c.name for c in changes if c.last.flag == "N" and c.first is not c.last and c.first.flag in ABNORMAL]
    lines = []
    for names, words in ((new, _("Newly abnormal")), (persisting, _("Still abnormal")),
                         (resolved, _("Back within the interval"))):
        if names:
            lines.append(_("%(what)s: %(names)s", what=words, names=_names(names)))
    return lines or [_("No result was outside its reference interval at the end of the period.")]


def _names(names: list[str]) -> str:
    return _(", ").join(names)  # 、 in Chinese


def _risk_lines(patient_id: int, start: date, end: date) -> list[str]:
    lines = []
    for model_id, definition in risk.all_models().items():
        rows = risk.history_for(patient_id, model_id)
        before = [r for r in rows if clock.local_date(r.computed_at) < start and r.value_text]
        within = [r for r in rows if start <= clock.local_date(r.computed_at) <= end and r.value_text]
        if not within:
            continue
        now = risk.shown_assessment(definition, within[-1])
        then = risk.shown_assessment(definition, before[-1] if before else within[0])
        band = _(" (%(band)s)", band=now.band) if now.band else ""
        if then.row is now.row or then.value == now.value:
            lines.append(_say("risk", model=now.name, value=now.value, band=band))
        else:
            lines.append(_say("risk_change", model=now.name, then=then.value, now=now.value, band=band))
    return lines


def _plan_lines(patient_id: int, start: date, end: date, locale: str) -> list[str]:
    lines = []
    for plan in interventions.plans_of_patient(patient_id):
        if plan.start_date > end or plan.end_date < start:
            continue
        goals = interventions.plan_goals(plan, locale, today=min(end, clock.today()))
        judged = [g for g in goals if g.met is not None]
        line = _say("plan", plan=plan.title, start=plan.start_date.isoformat(), end=plan.end_date.isoformat(),
                    met=sum(bool(g.met) for g in judged), goals=len(goals))
        done = [a for a in interventions.plan_adherence(plan, locale, today=min(end, clock.today()))
                if a.percent is not None]
        if done:
            parts = _("; ").join(f"{a.text} {a.percent}%" for a in done)
            line += _("; actions done: %(parts)s", parts=parts)
        lines.append(line)
    return lines


def _contact_lines(patient_id: int, start: date, end: date) -> list[str]:
    counts = followups.contact_counts(patient_id, start, end)
    total = sum(counts.values())
    if not total:
        return [_say("no_contacts")]
    parts = _(", ").join(f"{followups.labels.RESULT[result]} {n}" for result, n in counts.items() if n)
    return [_say("contacts", total=total, parts=parts)]


def _next_lines(patient_id: int, changes: list[Change], end: date) -> list[str]:
    lines = []
    due = followups.next_due([patient_id]).get(patient_id)
    if due is not None:
        lines.append(_say("next_followup", date=due.isoformat()))
    recheck = [c.name for c in changes if c.last.flag in ABNORMAL]
    if recheck:
        lines.append(_say("recheck", names=_names(recheck)))
    for plan in interventions.plans_of_patient(patient_id, active_only=True):
        if plan.end_date > end:
            lines.append(_say("plan_continues", plan=plan.title, date=plan.end_date.isoformat()))
    return lines or [_say("keep_going")]


_words: ContextVar[tuple[dict, str]] = ContextVar("summary_words", default=({}, "zh_CN"))


def _say(key: str, **values) -> str:
    """A sentence in the clinic's words, if it chose some, for the draft's language."""
    overrides, locale = _words.get()
    return sentences.write(key, overrides, locale, **values)


def draft(patient, start: date, end: date, locale: str) -> str:
    """The summary of ``start``–``end`` (clinic days, inclusive) in ``locale``."""
    token = _words.set((styles.sentence_words(), locale))
    try:
        return _draft(patient, start, end, locale)
    finally:
        _words.reset(token)


def _draft(patient, start: date, end: date, locale: str) -> str:
    with force_locale(locale):
        changes = _changes(patient.id, start, end, locale)
        measured = [c for c in changes if c.group != QUESTIONNAIRE_GROUP]
        scored = [c for c in changes if c.group == QUESTIONNAIRE_GROUP]
        sections = [
            (_("Period"), [_("%(start)s to %(end)s", start=start.isoformat(), end=end.isoformat())]),
            (_("Measurements"), [_measurement_line(c) for c in measured] or [_("No measurement in the period.")]),
            (_("Abnormal results"), _abnormality_lines(measured)),
            (_("Risk assessments"), _risk_lines(patient.id, start, end) or [_("No risk assessment in the period.")]),
            (_("Questionnaire scores"), [_measurement_line(c) for c in scored]
             or [_("No questionnaire was scored in the period.")]),
            (_("Interventions"), _plan_lines(patient.id, start, end, locale)
             or [_("No intervention plan in the period.")]),
            (_("Follow-up"), _contact_lines(patient.id, start, end)),
            (_("What to do next"), _next_lines(patient.id, measured, end)),
        ]
        return "\n\n".join(f"【{title}】\n" + "\n".join(f"· {line}" for line in lines) for title, lines in sections)
