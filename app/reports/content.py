"""What a health report holds: one exam of a patient (the results staff and
labs recorded on one clinic day; the patient's own home readings are not an
exam) with the history before it, the risk assessments, the released advice
and the active plans. Everything here is read, in the report's language;
nothing is written."""
import base64
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from markupsafe import Markup

from app.clinic import services as clinic_profile
from app.core import clock
from app.interventions import services as interventions
from app.patients import services as patients
from app.records import services as records
from app.reports import summaries
from app.risk import services as risk

ABNORMAL = records.trends.ABNORMAL
MAX_CHARTS = 10


@dataclass
class ResultLine:
    name: str
    value: str          # rounded, with the unit as printed
    interval: str       # the reference interval the flag was judged by ("" when none)
    flag: str           # the observation's flag code (H, L, HH, LL, A, N or "")
    flag_words: str     # 偏高 …, "" for a normal or unjudged value
    meaning: str = ""   # an abnormal value in plain words: above or below which limit
    previous: str = ""  # the value at the exam before, with its date
    change: str = ""    # new | persisting | resolved | ""

    @property
    def change_words(self) -> str:
        return str(records.labels.PLAIN_CHANGE[self.change]) if self.change else ""


@dataclass
class ResultGroup:
    name: str
    lines: list[ResultLine] = field(default_factory=list)


@dataclass
class Report:
    patient: object
    clinic: clinic_profile.Contact
    logo: str                   # a data: URI, or ""
    exam_date: date
    previous_exam: date | None
    age: int
    locale: str
    groups: list[ResultGroup]
    abnormal: list[ResultLine]
    resolved: list[ResultLine]
    charts: list[Markup]
    risks: list                 # risk.reading.Shown with an assessment
    advice: object | None       # the newest released advice sheet
    plans: list[dict]           # {plan, goals, adherence}
    summary: object | None = None  # the doctor's signed stage summary whose period holds the exam day
    counts: dict[str, int] = field(default_factory=dict)


def exam_dates(patient_id: int) -> list[date]:
    """The clinic days with results staff or a lab recorded, newest first."""
    days = {clock.local_date(o.observed_at) for o, _i in records.history(patient_id) if records.is_exam_result(o)}
    return sorted(days, reverse=True)


def _name(indicator, locale: str) -> str:
    return indicator.name_zh if locale == "zh_CN" else indicator.name_en


def _value(observation, indicator, locale: str) -> str:
    if observation.value is None:
        unit = records.unit_display(observation.reported_unit, locale)
        return f"{observation.value_text} {unit}".strip()
    unit = records.unit_display(indicator.unit, locale)
    return f"{records.format_value(observation.value, indicator.decimals)} {unit}".strip()


def _interval(observation, indicator, sex: str, age: int, locale: str) -> str:
    """The interval the flag was judged by: the lab's (in the unit the lab reported), else the
    catalogue's for the patient's sex and age at the exam."""
    if observation.ref_text:
        return observation.ref_text
    if observation.ref_low is not None or observation.ref_high is not None:
        unit = records.unit_display(observation.reported_unit or indicator.unit, locale)
        return _span(observation.ref_low, observation.ref_high, False, unit, indicator.decimals)
    rule = records.catalogue.reference_range(indicator, sex, age)
    if rule is None or (rule.get("low") is None and rule.get("high") is None):
        return ""
    return _span(rule.get("low"), rule.get("high"), bool(rule.get("high_inclusive")),
                 records.unit_display(indicator.unit, locale), indicator.decimals)


def _span(low, high, high_inclusive: bool, unit: str, decimals: int) -> str:
    """An interval as a reader takes it: 3.9–6.1, or "< 140" when the upper limit itself is out of range."""
    low_text, high_text = (records.format_value(n, decimals) if n is not None else "" for n in (low, high))
    upper = f"< {high_text}" if high_inclusive else f"≤ {high_text}"
    if low is not None and high is not None:
        text = _("%(low)s and %(high)s", low=f"≥ {low_text}", high=upper) if high_inclusive \
            else f"{low_text}–{high_text}"
    else:
        text = f"≥ {low_text}" if low is not None else upper
    return f"{text} {unit}".strip()


def _meaning(observation, interval: str) -> str:
    """The flag in plain words for a reader without medical training, from the interval it was judged by."""
    flag = observation.flag
    if flag in ("HH", "LL"):
        return _("Far outside the reference interval (%(interval)s): a value a doctor looks at at once.",
                 interval=interval) if interval else _("A critical value: a doctor looks at it at once.")
    if flag == "H":
        return _("Above the upper limit of the reference interval (%(interval)s).", interval=interval) \
            if interval else _("Above the reference interval.")
    if flag == "L":
        return _("Below the lower limit of the reference interval (%(interval)s).", interval=interval) \
            if interval else _("Below the reference interval.")
    if flag == "A":
        return _("The lab marked this result as abnormal.")
    return ""


def _line(observation, indicator, patient, age: int, locale: str, before) -> ResultLine:
    interval = _interval(observation, indicator, patient.sex, age, locale)
    line = ResultLine(_name(indicator, locale), _value(observation, indicator, locale), interval, observation.flag,
                      records.flag_words(observation.flag), _meaning(observation, interval))
    if before is not None:
        line.previous = f"{_value(before, indicator, locale)} ({clock.local_date(before.observed_at).isoformat()})"
        was = before.flag in ABNORMAL
        if observation.flag in ABNORMAL:
            line.change = "persisting" if was else "new"
        elif was and observation.flag == "N":
            line.change = "resolved"
    return line


def _results(patient, exam_date: date, locale: str):
    """The exam's results grouped as the catalogue groups them, each with the value before it."""
    by_group: dict[str, ResultGroup] = {}
    latest_before: dict[int, object] = {}
    previous_exam = None
    chart_ids: list[int] = []
    age = clock.age(patient.birth_date, exam_date)
    for observation, indicator in records.history(patient.id):  # oldest first
        if not records.is_exam_result(observation):
            continue
        day = clock.local_date(observation.observed_at)
        if day < exam_date:
            latest_before[indicator.id] = observation
            previous_exam = day
        elif day == exam_date:
            group = by_group.setdefault(indicator.group, ResultGroup(str(records.labels.GROUP.get(
                indicator.group, indicator.group))))
            group.lines = [line for line in group.lines if line.name != _name(indicator, locale)]  # the day's last
            group.lines.append(_line(observation, indicator, patient, age, locale, latest_before.get(indicator.id)))
            if observation.flag in ABNORMAL and indicator.id not in chart_ids:
                chart_ids.append(indicator.id)
    groups = [by_group[key] for key in sorted(by_group)]
    return groups, previous_exam, chart_ids


def _charts(patient, exam_date: date, wanted: list[int], locale: str) -> list[Markup]:
    """The trend charts up to the exam: every abnormal indicator of the exam with an earlier value, and
    blood pressure; the same SVG the web pages draw."""
    trends = records.trends.build(patient, until=exam_date)
    by_id = {row.indicator.id: row for row in trends.rows}
    by_code = {row.indicator.code: row for row in trends.rows}
    systolic = by_code.get(records.trends.SYSTOLIC)
    chosen = [i for i in wanted if len(by_id[i].series) > 1] if wanted else []
    if systolic is not None and len(systolic.series) > 1 and systolic.indicator.id not in chosen:
        chosen.insert(0, systolic.indicator.id)
    drawn = records.trends.charts(trends, patient, locale, only=set(chosen[:MAX_CHARTS]))
    return [Markup(svg) for svg in drawn.values()]  # noqa: S704  (server-built SVG from escaped parts)


def _plans(patient_id: int, locale: str) -> list[dict]:
    return [{"plan": plan, "goals": interventions.plan_goals(plan, locale),
             "adherence": interventions.plan_adherence(plan, locale)}
            for plan in interventions.plans_of_patient(patient_id, active_only=True)]


def clinic_logo() -> str:
    found = clinic_profile.logo()
    if found is None:
        return ""
    data, mime = found
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def build(patient, exam_date: date, locale: str) -> Report:
    groups, previous_exam, abnormal_ids = _results(patient, exam_date, locale)
    lines = [line for group in groups for line in group.lines]
    abnormal = [line for line in lines if line.flag in ABNORMAL]
    resolved = [line for line in lines if line.change == "resolved"]
    sheets = interventions.released_advice(patient.id)
    report = Report(
        patient=patient, clinic=clinic_profile.contact(), logo=clinic_logo(), exam_date=exam_date,
        previous_exam=previous_exam, age=clock.age(patient.birth_date, exam_date), locale=locale,
        groups=groups, abnormal=abnormal, resolved=resolved,
        charts=_charts(patient, exam_date, abnormal_ids, locale),
        risks=[shown for shown in risk.current_for(patient.id) if shown.row is not None and shown.row.value_text],
        advice=sheets[0] if sheets else None, plans=_plans(patient.id, locale),
        summary=summaries.signed_covering(patient.id, exam_date))
    report.counts = {"results": len(lines), "abnormal": len(abnormal),
                     "new": sum(line.change == "new" for line in abnormal),
                     "persisting": sum(line.change == "persisting" for line in abnormal),
                     "resolved": len(resolved)}
    return report


def sex_words(patient) -> str:
    return str(patients.labels.SEX.get(patient.sex, ""))
