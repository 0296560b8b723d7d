"""Multi-year views of one patient's results: per-indicator series and the
year-over-year table that marks each abnormality new, persisting or resolved
(or, with no reference interval to judge a later value by, "no range")."""
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from app.core import clock
from app.records import catalogue, results
from app.records.charts import LINE as LINE_COLOUR
from app.records.charts import SECOND, ChartPoint, Series, combined_svg, trend_svg, word
from app.records.models import Indicator, Observation

ABNORMAL = ("L", "H", "LL", "HH", "A")
CRITICAL = ("LL", "HH")
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"  # read together: one chart


@dataclass
class Cell:
    observation: Observation
    change: str = ""  # new | persisting | resolved | ""


@dataclass
class Row:
    indicator: Indicator
    cells: dict[date, Cell] = field(default_factory=dict)
    series: list[Observation] = field(default_factory=list)


@dataclass
class Trends:
    dates: list[date]
    rows: list[Row]
    groups: list[str]


def build(patient, group: str = "", *, until: date | None = None,
          keep: Callable[[Observation], bool] | None = None) -> Trends:
    """``until``: only the results of clinic days up to that one (a printed report's history); ``keep``: only
    the results it keeps (what the portal may show)."""
    rows: dict[int, Row] = {}
    groups = set()
    for observation, indicator in results.history(patient.id):
        day = clock.local_date(observation.observed_at)
        if (until is not None and day > until) or (keep is not None and not keep(observation)):
            continue
        groups.add(indicator.group)
        if group and indicator.group != group:
            continue
        row = rows.setdefault(indicator.id, Row(indicator))
        row.series.append(observation)
        row.cells[day] = Cell(observation)  # the day's latest value wins
    dates = sorted({day for row in rows.values() for day in row.cells})
    for row in rows.values():
        _mark_changes(row, dates)
    ordered = sorted(rows.values(), key=lambda r: (r.indicator.group, r.indicator.code))
    return Trends(dates, ordered, sorted(groups))


def _mark_changes(row: Row, dates: list[date]) -> None:
    before = None
    for day in dates:
        cell = row.cells.get(day)
        if cell is None:
            continue
        now_abnormal = cell.observation.flag in ABNORMAL
        was_abnormal = before is not None and before.observation.flag in ABNORMAL
        if now_abnormal:
            cell.change = "persisting" if was_abnormal else "new"
        elif was_abnormal:  # resolved only inside a known interval ("N"); with none ("") nothing can be said
            cell.change = "resolved" if cell.observation.flag == "N" else "no_range"
        if cell.observation.flag:  # a value with no interval judges nothing: the next compares with the last judged
            before = cell


def _points(row: Row) -> list[ChartPoint]:
    return [ChartPoint(clock.local_date(o.observed_at), o.value, o.flag in ABNORMAL, direction=_direction(o.flag),
                       critical=o.flag in CRITICAL) for o in row.series if o.value is not None]


def _name(indicator: Indicator, locale: str) -> str:
    return indicator.name_zh if locale == "zh_CN" else indicator.name_en


def chart(row: Row, patient, locale: str = "zh_CN") -> str:
    indicator = row.indicator
    rule = catalogue.reference_range(indicator, patient.sex, clock.age(patient.birth_date)) or {}
    return trend_svg(_points(row), title=_name(indicator, locale), unit=indicator.unit, ref_low=rule.get("low"),
                     ref_high=rule.get("high"), locale=locale, decimals=indicator.decimals)


def blood_pressure_chart(systolic: Row, diastolic: Row, patient, locale: str = "zh_CN") -> str:
    """Systolic and diastolic pressure in one chart: two lines, each with its reference limits."""
    age = clock.age(patient.birth_date)
    series = []
    for row, colour, mark in ((systolic, LINE_COLOUR, "circle"), (diastolic, SECOND, "square")):
        rule = catalogue.reference_range(row.indicator, patient.sex, age) or {}
        series.append(Series(_name(row.indicator, locale), _points(row), rule.get("low"), rule.get("high"),
                             colour=colour, mark=mark))
    title = word("blood_pressure", locale)
    return combined_svg(series, title=title, unit=systolic.indicator.unit, locale=locale,
                        decimals=max(systolic.indicator.decimals, diastolic.indicator.decimals))


def charts(trends: Trends, patient, locale: str = "zh_CN", *, only: set[int] | None = None) -> dict[int, str]:
    """The charts of a trends view by indicator id (``only``: of these indicators). Systolic and diastolic
    pressure share one chart, kept under the systolic row (the diastolic row then has none)."""
    if only is not None and any(r.indicator.id in only and r.indicator.code == SYSTOLIC for r in trends.rows):
        only = only | {r.indicator.id for r in trends.rows if r.indicator.code == DIASTOLIC}
    rows = [row for row in trends.rows if any(o.value is not None for o in row.series)
            and (only is None or row.indicator.id in only)]
    by_code = {row.indicator.code: row for row in rows}
    out = {}
    for row in rows:
        if row.indicator.code in (SYSTOLIC, DIASTOLIC) and SYSTOLIC in by_code and DIASTOLIC in by_code:
            if row.indicator.code == SYSTOLIC:
                out[row.indicator.id] = blood_pressure_chart(row, by_code[DIASTOLIC], patient, locale)
            continue
        out[row.indicator.id] = chart(row, patient, locale)
    return out


def _direction(flag: str) -> str:
    return "H" if flag in ("H", "HH") else "L" if flag in ("L", "LL") else ""


def grouped_by_day(trends: Trends) -> dict:
    by_group = defaultdict(list)
    for row in trends.rows:
        by_group[row.indicator.group].append(row)
    return by_group
