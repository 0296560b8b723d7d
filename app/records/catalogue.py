"""The indicator catalogue: the pack, code lookup, units and reference ranges."""
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.records.models import Indicator, LabCode
from tenants import packs
from tenants.db import db

# Spellings labs use for the same unit, folded to the catalogue's UCUM form.
_UNIT_SYNONYMS = {
    "mmhg": "mm[Hg]", "mm[hg]": "mm[Hg]", "bpm": "/min", "次/分": "/min", "/min": "/min", "1/min": "/min",
    "kg/m2": "kg/m2", "kg/m²": "kg/m2", "kg/m^2": "kg/m2", "mmol/l": "mmol/L", "mg/dl": "mg/dL",
    "umol/l": "umol/L", "µmol/l": "umol/L", "μmol/l": "umol/L", "u/l": "U/L", "iu/l": "U/L", "%": "%",
    "cm": "cm", "m": "m", "kg": "kg", "g/l": "g/L", "g/dl": "g/dL", "mg/g": "mg/g",
    "ml/min/1.73m2": "mL/min/{1.73_m2}", "ml/min/{1.73_m2}": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}", "miu/l": "m[IU]/L", "m[iu]/l": "m[IU]/L", "uiu/ml": "uIU/mL",
    "μiu/ml": "uIU/mL", "µiu/ml": "uIU/mL",
}


class CatalogueError(ValueError):
    pass


def normalise_unit(unit: str) -> str:
    folded = (unit or "").strip()
    return _UNIT_SYNONYMS.get(folded.lower().replace(" ", ""), _UNIT_SYNONYMS.get(folded.lower(), folded))


def install_pack() -> int:
    """Add the pack's indicators this clinic does not have yet."""
    have = set(db.session.scalars(select(Indicator.code)))
    added = 0
    for spec in packs.load("indicators")["indicators"]:
        if spec["code"] in have:
            continue
        db.session.add(Indicator(
            code=spec["code"], name_zh=spec["name_zh"], name_en=spec["name_en"], unit=spec["unit"],
            group=spec["group"], decimals=spec.get("decimals", 2), alt_units=spec.get("alt_units", {}),
            aliases=spec.get("aliases", {}), ranges=spec.get("ranges", []), critical=spec.get("critical", {}),
            plausible=spec.get("plausible", {}), is_local=False))
        added += 1
    return added


def all_indicators(active_only: bool = True) -> list[Indicator]:
    query = select(Indicator).order_by(Indicator.group, Indicator.code)
    if active_only:
        query = query.where(Indicator.active.is_(True))
    return list(db.session.scalars(query))


@dataclass
class Match:
    indicator: Indicator
    implied_unit: str = ""  # the unit an alias code or a lab mapping implies


class CodeIndex:
    """Looks codes up for one import run without a query per result."""

    def __init__(self):
        self.by_code: dict[str, Match] = {}
        self.own_codes: dict[str, Indicator] = {}
        for indicator in all_indicators(active_only=False):
            self.own_codes[indicator.code] = indicator
            self.by_code[indicator.code.lower()] = Match(indicator)
            for alias, unit in (indicator.aliases or {}).items():
                self.by_code[alias.lower()] = Match(indicator, unit)
        self.lab: dict[tuple[str, str], Match] = {}
        indicators = {m.indicator.id: m.indicator for m in self.by_code.values()}
        for row in db.session.scalars(select(LabCode)):
            if row.indicator_id in indicators:
                self.lab[(row.sender.lower(), row.local_code.lower())] = Match(indicators[row.indicator_id], row.unit)

    def indicator(self, code: str) -> Indicator | None:
        """The entry whose own code is ``code`` (as results.indicator_by_code, without a query)."""
        return self.own_codes.get(code)

    def find(self, code: str, name: str = "", sender: str = "") -> Match | None:
        for key in (code, name):
            key = (key or "").strip().lower()
            if not key:
                continue
            found = self.lab.get((sender.lower(), key)) or self.lab.get(("", key)) or self.by_code.get(key)
            if found:
                return found
        return None


def convert(value: float, unit: str, indicator: Indicator) -> float:
    """``value`` in ``unit`` -> the catalogue unit; raises CatalogueError."""
    unit = normalise_unit(unit)
    if not unit or unit == indicator.unit:
        return value
    factors = {normalise_unit(u): f for u, f in (indicator.alt_units or {}).items()}
    if unit in factors:
        return value * factors[unit]
    raise CatalogueError(_("unit %(unit)s cannot be converted to %(target)s for %(name)s",
                           unit=unit, target=indicator.unit or "—", name=indicator.name_zh))


def reference_range(indicator: Indicator, sex: str, age: int) -> dict | None:
    for entry in indicator.ranges or []:
        if entry.get("sex") and entry["sex"] != sex:
            continue
        if age < entry.get("age_min", 0) or age > entry.get("age_max", 200):
            continue
        return entry
    return None


def flag_from_range(value: float, low: float | None, high: float | None, high_inclusive: bool = False) -> str:
    if low is not None and value < low:
        return "L"
    if high is not None and (value >= high if high_inclusive else value > high):
        return "H"
    return "N"


def critical_flag(value: float, limits: dict | None) -> str:
    """"LL" or "HH" when ``value`` (in the catalogue unit) lies beyond the critical limits, else ""."""
    limits = limits or {}
    low, high = limits.get("low"), limits.get("high")
    if low is not None and (value <= low if limits.get("low_inclusive") else value < low):
        return "LL"
    if high is not None and (value >= high if limits.get("high_inclusive") else value > high):
        return "HH"
    return ""


_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def as_number(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if _NUMBER.match(text) else None


def add_local(code: str, name_zh: str, name_en: str, unit: str, group: str) -> Indicator:
    code = code.strip()
    if not code or not name_zh.strip():
        raise CatalogueError(_("Code and Chinese name are required."))
    if db.session.scalar(select(Indicator.id).where(Indicator.code == code)):
        raise CatalogueError(_("An indicator with code %(code)s exists already.", code=code))
    indicator = Indicator(code=code, name_zh=name_zh.strip(), name_en=name_en.strip() or name_zh.strip(),
                          unit=normalise_unit(unit), group=group, is_local=True)
    db.session.add(indicator)
    return indicator


def map_lab_code(sender: str, local_code: str, indicator_id: int, unit: str = "") -> LabCode:
    indicator = db.session.scalar(select(Indicator).where(Indicator.id == indicator_id))
    if indicator is None:
        raise CatalogueError(_("Please choose an indicator."))
    if not local_code.strip():
        raise CatalogueError(_("The lab's code or test name is required."))
    row = db.session.scalar(select(LabCode).where(LabCode.sender == sender.strip(),
                                                  LabCode.local_code == local_code.strip()))
    if row is None:
        row = LabCode(sender=sender.strip(), local_code=local_code.strip(), indicator_id=indicator.id)
        db.session.add(row)
    row.indicator_id, row.unit = indicator.id, normalise_unit(unit)
    return row
