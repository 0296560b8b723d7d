"""A patient's assessments as the pages show them: each model's current
result with its factors, what-ifs and what is missing, and its history."""
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.core import clock
from app.records import services as records
from app.risk import labels
from app.risk.definitions import all_models, input_spec
from app.risk.models import RiskAssessment
from tenants.db import db


@dataclass
class Factor:
    name: str
    value: str
    source: str          # where it came from, in words
    on: str | None       # its date (ISO), if it has one
    contribution: str    # in words: a share, points or a band
    bar: float | None = None  # -1..1 of the largest contribution, for the bar


@dataclass
class Shown:
    definition: dict
    row: RiskAssessment | None
    name: str = ""
    band: str = ""
    value: str = ""
    factors: list[Factor] = field(default_factory=list)
    what_ifs: list[str] = field(default_factory=list)
    needed: list[str] = field(default_factory=list)
    status: str = ""


def _zh() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def _words(named: dict) -> str:
    return named.get("zh" if _zh() else "en") or named.get("en", "")


def unit_words(unit: str) -> str:
    return str(labels.UNIT[unit]) if unit in labels.UNIT else records.unit_display(unit, str(get_locale() or "zh"))


def value_words(definition: dict, name: str, value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        return str(labels.CHOICE.get(value, value))
    spec = input_spec(definition, name) or {}
    number = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{number} {unit_words(spec['unit'])}" if spec.get("unit") else number


def result_words(definition: dict, value_text: str) -> str:
    if not value_text:
        return ""
    unit = definition["unit"]
    return f"{value_text}%" if unit == "%" else f"{value_text} {unit_words(unit)}"


def band_words(definition: dict, code: str | None) -> str:
    found = next((b for b in definition["bands"] if b["code"] == code), None) if code else None
    return _words(found["name"]) if found and "name" in found else (code or "")


def input_name(name: str) -> str:
    return str(labels.INPUT.get(name, name))


def shown(definition: dict, row: RiskAssessment | None) -> Shown:
    view = Shown(definition, row, name=_words(definition["name"]))
    if row is None:
        return view
    view.value = result_words(definition, row.value_text)
    view.band = band_words(definition, row.band)
    view.status = str(labels.STATUS.get(row.status, ""))
    numbers = [abs(v) for v in row.contributions.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    largest = max(numbers, default=0) or 1
    for name, used in row.inputs.items():
        part = row.contributions.get(name)
        view.factors.append(Factor(
            input_name(name), value_words(definition, name, used["value"]), str(labels.KIND.get(used["kind"], "")),
            used.get("date"), _contribution(definition, part),
            part / largest if isinstance(part, int | float) and not isinstance(part, bool) else None))
    now = view.value
    for change in row.what_if:
        view.what_ifs.append(_what_if(definition, change, now))
    for gap in row.missing:
        if gap["why"] == "too_old":
            view.needed.append(_("%(input)s (older than %(days)d days)", input=input_name(gap["input"]),
                                 days=gap.get("max_age_days") or 0))
        else:
            view.needed.append(_("%(input)s (never recorded)", input=input_name(gap["input"])))
    return view


def _contribution(definition: dict, part) -> str:
    if part is None:
        return ""
    if isinstance(part, str):
        return band_words(definition, part) or str(labels.CHOICE.get(part, part))
    if definition["kind"] == "cox":
        return f"{part * 100:.1f}%"
    return _("%(num)s points", num=f"{part:g}")


def _what_if(definition: dict, change: dict, now: str) -> str:
    name, target = change["input"], change["target"]
    then = result_words(definition, "" if change["value"] is None else f"{change['value']:g}")
    band = band_words(definition, change.get("band"))
    then = f"{then}（{band}）" if band and _zh() else f"{then} ({band})" if band else then
    if isinstance(target, bool):
        what = str(labels.AT_TARGET.get((name, target), input_name(name)))
        return _("%(change)s: %(then)s (now %(now)s)", change=what, then=then, now=now)
    spec = input_spec(definition, name) or {}
    goal = value_words(definition, name, target)
    if spec.get("target", {}).get("direction") == "higher":
        return _("%(input)s up to %(target)s: %(then)s (now %(now)s)", input=input_name(name), target=goal,
                 then=then, now=now)
    return _("%(input)s down to %(target)s: %(then)s (now %(now)s)", input=input_name(name), target=goal,
             then=then, now=now)


def current_for(patient_id: int) -> list[Shown]:
    """Every model, with the patient's current assessment of it (None before the first)."""
    rows = {row.model: row for row in db.session.scalars(
        select(RiskAssessment).where(RiskAssessment.patient_id == patient_id, RiskAssessment.is_current))}
    return [shown(definition, rows.get(model_id)) for model_id, definition in all_models().items()]


def history_for(patient_id: int, model_id: str) -> list[RiskAssessment]:
    """The model's assessments of the patient, oldest first."""
    return list(db.session.scalars(select(RiskAssessment).where(
        RiskAssessment.patient_id == patient_id, RiskAssessment.model == model_id)
        .order_by(RiskAssessment.computed_at, RiskAssessment.id)))


def trend_svg(definition: dict, rows: list[RiskAssessment]) -> str:
    """The value over time (numeric results only), drawn as records draws a trend."""
    points = [records.charts.ChartPoint(when=clock.local_date(row.computed_at), value=row.value, abnormal=False)
              for row in rows if row.status == "ok" and row.value is not None]
    unit = "" if definition["unit"] in labels.UNIT else definition["unit"]
    return records.charts.trend_svg(points, title=_words(definition["name"]), unit=unit, ref_low=None, ref_high=None,
                                    locale=str(get_locale() or "zh_CN"))
