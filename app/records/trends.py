"""Multi-year views of one patient's results: per-indicator series and the
year-over-year table that marks each abnormality new, persisting or resolved
(or, with no reference interval to judge a later value by, "no range")."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from app.core import clock
from app.records import catalogue, results
from app.records.charts import ChartPoint, trend_svg
from app.records.models import Indicator, Observation

ABNORMAL = ("L", "H", "LL", "HH", "A")


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


def build(patient, group: str = "") -> Trends:
    rows: dict[int, Row] = {}
    groups = set()
    for observation, indicator in results.history(patient.id):
        groups.add(indicator.group)
        if group and indicator.group != group:
            continue
        row = rows.setdefault(indicator.id, Row(indicator))
        row.series.append(observation)
        row.cells[clock.local_date(observation.observed_at)] = Cell(observation)  # the day's latest value wins
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


def chart(row: Row, patient, locale: str = "zh_CN") -> str:
    indicator = row.indicator
    points = [ChartPoint(clock.local_date(o.observed_at), o.value, o.flag in ABNORMAL, direction=_direction(o.flag))
              for o in row.series if o.value is not None]
    rule = catalogue.reference_range(indicator, patient.sex, clock.age(patient.birth_date)) or {}
    title = indicator.name_zh if locale == "zh_CN" else indicator.name_en
    return trend_svg(points, title=title, unit=indicator.unit, ref_low=rule.get("low"), ref_high=rule.get("high"),
                     locale=locale)


def _direction(flag: str) -> str:
    return "H" if flag in ("H", "HH") else "L" if flag in ("L", "LL") else ""


def grouped_by_day(trends: Trends) -> dict:
    by_group = defaultdict(list)
    for row in trends.rows:
        by_group[row.indicator.group].append(row)
    return by_group
