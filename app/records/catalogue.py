"""The indicator catalogue: the pack, code lookup, units and reference ranges."""
import math
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.records import ucum
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
    """A unit as sent -> the spelling stored and compared: the catalogue's own forms first (stored
    fingerprints include them), else the UCUM code of the spelling."""
    folded = (unit or "").strip()
    known = _UNIT_SYNONYMS.get(folded.lower().replace(" ", ""), _UNIT_SYNONYMS.get(folded.lower()))
    return known or ucum.code(folded)


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

    def find(self, code: str, name: str = "", sender: str = "", others: list[str] | None = None) -> Match | None:
        """The lab's own mapping of a code (this lab's, then any lab's), else the catalogue's code; the
        primary code first, then the alternates sent with it (a LOINC code in any coding), then the name."""
        keys = [k.strip().lower() for k in (code, *(others or []), name) if k and k.strip()]
        for key in keys:
            found = self.lab.get((sender.lower(), key)) or self.lab.get(("", key))
            if found:
                return found
        for key in keys:
            if found := self.by_code.get(key):
                return found
        return None

    def indicator_by_id(self, indicator_id: int) -> str:
        """An indicator's code by its id, for messages."""
        return next((i.code for i in self.own_codes.values() if i.id == indicator_id), "")


def convert(value: float, unit: str, indicator: Indicator) -> float:
    """``value`` in ``unit`` -> the catalogue unit; raises CatalogueError."""
    unit = normalise_unit(unit)
    if not unit or unit == indicator.unit:
        return value
    factors = {normalise_unit(u): f for u, f in (indicator.alt_units or {}).items()}
    if unit in factors:
        return value * factors[unit]
    # the same meaning in another scale (ug/dL for mg/dL, mmol/L for umol/L), directly or by an alternative
    for known, into in [(indicator.unit, 1.0), *factors.items()]:
        scale = ucum.factor(unit, known)
        if scale is not None:
            return value * scale * into
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


# Beyond this, a number is not a measurement whatever the indicator (1e78, a date read as a number).
MAX_MAGNITUDE = 1e9


def implausible(value: float, indicator: Indicator) -> str:
    """Why ``value`` (in the catalogue unit) cannot be a measurement of ``indicator``; "" when it can."""
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        return _("not a finite measurement")
    limits = indicator.plausible or {}
    low, high = limits.get("low"), limits.get("high")
    if (low is not None and value < low) or (high is not None and value > high):
        return _("outside the plausible limits of %(name)s (%(low)s–%(high)s %(unit)s)", name=indicator.name_zh,
                 low="" if low is None else low, high="" if high is None else high, unit=indicator.unit)
    return ""


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


def lab_codes() -> list[LabCode]:
    return list(db.session.scalars(select(LabCode).order_by(LabCode.sender, LabCode.local_code)))


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
