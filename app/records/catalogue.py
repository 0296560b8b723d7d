"""The indicator catalogue: the pack, code lookup, units and reference ranges."""
import hashlib
import json
import math
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from app.records import ucum
from app.records.models import Indicator, IndicatorVersion, LabCode
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
    "10^9/l": "10*9/L", "10*9/l": "10*9/L", "×10^9/l": "10*9/L", "x10^9/l": "10*9/L", "10e9/l": "10*9/L",
    "10^12/l": "10*12/L", "10*12/l": "10*12/L", "×10^12/l": "10*12/L", "x10^12/l": "10*12/L", "10e12/l": "10*12/L",
    "10^3/ul": "10*3/uL", "10*3/ul": "10*3/uL", "10^6/ul": "10*6/uL", "10*6/ul": "10*6/uL", "fl": "fL",
    "pg": "pg", "l/l": "L/L", "ng/ml": "ng/mL", "ug/l": "ug/L", "μg/l": "ug/L", "µg/l": "ug/L", "u/ml": "U/mL",
    "ku/l": "k[IU]/L", "kiu/l": "k[IU]/L", "pmol/l": "pmol/L", "pg/ml": "pg/mL", "ng/dl": "ng/dL",
    "nmol/l": "nmol/L", "mg/l": "mg/L", "℃": "Cel", "°c": "Cel", "cel": "Cel", "ph": "[pH]", "[ph]": "[pH]",
}


class CatalogueError(ValueError):
    pass


def normalise_unit(unit: str) -> str:
    """A unit as sent -> the spelling stored and compared: the catalogue's own forms first (stored
    fingerprints include them), else the UCUM code of the spelling."""
    folded = (unit or "").strip()
    known = _UNIT_SYNONYMS.get(folded.lower().replace(" ", ""), _UNIT_SYNONYMS.get(folded.lower()))
    return known or ucum.code(folded)


# What a pack entry sets on a clinic's indicator (never the code or the unit: stored values are in it).
PACK_FIELDS = ("name_zh", "name_en", "group", "decimals", "alt_units", "aliases", "ranges", "critical",
               "plausible", "kind")


def _pack_values(spec: dict) -> dict:
    return {"name_zh": spec["name_zh"], "name_en": spec["name_en"], "group": spec["group"],
            "decimals": spec.get("decimals", 2), "alt_units": spec.get("alt_units", {}),
            "aliases": spec.get("aliases", {}), "ranges": spec.get("ranges", []),
            "critical": spec.get("critical", {}), "plausible": spec.get("plausible", {}),
            "kind": spec.get("kind", "numeric")}


def fingerprint(values: dict) -> str:
    """A digest of an indicator's pack-managed values (a pack spec's, or a row's as it stands)."""
    text = json.dumps({name: values[name] for name in PACK_FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _row_values(indicator: Indicator) -> dict:
    return {name: getattr(indicator, name) for name in PACK_FIELDS}


def edited(indicator: Indicator) -> bool:
    """Whether the clinic changed this pack indicator itself: an admin saved a version of it, or its values
    no longer match the pack entry it was last set from."""
    if db.session.scalar(select(IndicatorVersion.id).where(IndicatorVersion.indicator_id == indicator.id).limit(1)):
        return True
    return bool(indicator.pack_fingerprint) and fingerprint(_row_values(indicator)) != indicator.pack_fingerprint


@dataclass
class PackSync:
    added: int = 0
    updated: int = 0
    kept: list[str] = field(default_factory=list)  # codes the clinic edited: left as the clinic has them


def sync_pack() -> PackSync:
    """Bring the pack to this clinic: add the indicators it lacks, and update the pack indicators it has
    not edited itself (an indicator an admin edited keeps the admin's values; local ones are never
    touched). A row installed before fingerprints were kept counts as unedited unless an admin saved a
    version of it: no page could change a pack indicator's values before versions existed."""
    outcome = PackSync()
    have = {i.code: i for i in db.session.scalars(select(Indicator))}
    for spec in packs.load("indicators")["indicators"]:
        values = _pack_values(spec)
        digest = fingerprint(values)
        row = have.get(spec["code"])
        if row is None:
            db.session.add(Indicator(code=spec["code"], unit=spec["unit"], is_local=False,
                                     pack_fingerprint=digest, **values))
            outcome.added += 1
        elif row.is_local or row.pack_fingerprint == digest:
            continue
        elif edited(row):
            outcome.kept.append(row.code)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.pack_fingerprint = digest
            outcome.updated += 1
    return outcome


def install_pack() -> int:
    """Add the pack's indicators this clinic does not have yet and update the ones it has not edited;
    -> how many were added."""
    return sync_pack().added


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
    if indicator.kind == "coded" or not unit or unit == indicator.unit:
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


# ---- an admin edits an indicator's limits: each save is a version -------------------------------------

SEXES = ("", "M", "F")


class LimitErrors(ValueError):
    """Bad input on the limits form: field name -> message (range rows as ``ranges-<i>-<field>``)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class RangeInput:
    sex: str = ""
    age_min: str = ""
    age_max: str = ""
    low: str = ""
    high: str = ""
    high_inclusive: bool = False

    def blank(self) -> bool:
        return not any(v.strip() for v in (self.age_min, self.age_max, self.low, self.high)) and not self.sex


@dataclass
class LimitsInput:
    ranges: list[RangeInput]
    critical_low: str = ""
    critical_high: str = ""
    critical_low_inclusive: bool = False
    critical_high_inclusive: bool = False
    plausible_low: str = ""
    plausible_high: str = ""
    source: str = ""


def _number(text: str, name: str, errors: dict[str, str]) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    value = as_number(text)
    if value is None or not math.isfinite(value) or abs(value) >= 1e9:
        errors[name] = _("Enter a number, e.g. 3.5.")
        return None
    return int(value) if value == int(value) and "." not in text else value


def _age(text: str, name: str, errors: dict[str, str]) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > 150:
        errors[name] = _("Enter an age in whole years from 0 to 150.")
        return None
    return int(text)


def _pair(low_text: str, high_text: str, low_name: str, high_name: str,
          errors: dict[str, str]) -> tuple[float | None, float | None]:
    low, high = _number(low_text, low_name, errors), _number(high_text, high_name, errors)
    if low is not None and high is not None and low >= high:
        errors[high_name] = _("The upper limit must be above the lower limit.")
    return low, high


def _same_range(a: dict, b: dict) -> bool:
    keys = ("sex", "age_min", "age_max", "low", "high")
    return all(a.get(k) in (None, "") and b.get(k) in (None, "") or a.get(k) == b.get(k) for k in keys) \
        and bool(a.get("high_inclusive")) == bool(b.get("high_inclusive"))


def parse_limits(indicator: Indicator, data: LimitsInput) -> tuple[list, dict, dict, str]:
    """The form's text -> (ranges, critical, plausible, source); raises LimitErrors naming each bad field."""
    errors: dict[str, str] = {}
    source = (data.source or "").strip()
    if not source:
        errors["source"] = _("Name the source of these values (a standard and its table, a guideline, "
                             "or the lab's kit insert).")
    elif len(source) > 500:
        errors["source"] = _("At most 500 characters.")
    ranges = []
    for i, row in enumerate(data.ranges):
        if row.blank():
            continue
        prefix = f"ranges-{i}-"
        if row.sex not in SEXES:
            errors[prefix + "sex"] = _("Choose a sex or both.")
        age_min, age_max = _age(row.age_min, prefix + "age_min", errors), _age(row.age_max, prefix + "age_max", errors)
        if age_min is not None and age_max is not None and age_min > age_max:
            errors[prefix + "age_max"] = _("The upper age must not be below the lower age.")
        low, high = _pair(row.low, row.high, prefix + "low", prefix + "high", errors)
        if low is None and high is None and prefix + "low" not in errors and prefix + "high" not in errors:
            errors[prefix + "low"] = _("Give a lower limit, an upper limit or both.")
        entry: dict = {}
        if row.sex:
            entry["sex"] = row.sex
        if age_min is not None:
            entry["age_min"] = age_min
        if age_max is not None:
            entry["age_max"] = age_max
        if low is not None:
            entry["low"] = low
        if high is not None:
            entry["high"] = high
        if row.high_inclusive:
            entry["high_inclusive"] = True
        earlier = next((r for r in indicator.ranges or [] if _same_range(r, entry)), None)
        entry["source"] = earlier.get("source", source) if earlier else source  # an unchanged row keeps its source
        ranges.append(entry)
    critical: dict = {}
    low, high = _pair(data.critical_low, data.critical_high, "critical_low", "critical_high", errors)
    if low is not None or high is not None:
        critical = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
        critical.update(low_inclusive=data.critical_low_inclusive, high_inclusive=data.critical_high_inclusive,
                        source=source)
    plausible: dict = {}
    low, high = _pair(data.plausible_low, data.plausible_high, "plausible_low", "plausible_high", errors)
    if low is not None or high is not None:
        plausible = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
    if errors:
        raise LimitErrors(errors)
    return ranges, critical, plausible, source


def save_limits(indicator: Indicator, data: LimitsInput, actor_id: int | None) -> IndicatorVersion:
    """Set an indicator's ranges, critical and plausible limits and keep the save as a new version;
    raises LimitErrors (nothing changed) or CatalogueError for a coded indicator. The caller commits."""
    if indicator.kind == "coded":
        raise CatalogueError(_("%(name)s is reported as text: it has no ranges or limits.", name=indicator.name_zh))
    ranges, critical, plausible, source = parse_limits(indicator, data)
    latest = db.session.scalar(select(IndicatorVersion.version).where(IndicatorVersion.indicator_id == indicator.id)
                               .order_by(IndicatorVersion.version.desc()).limit(1)) or 0
    version = IndicatorVersion(indicator_id=indicator.id, version=latest + 1, ranges=ranges, critical=critical,
                               plausible=plausible, source_note=source, created_by=actor_id)
    db.session.add(version)
    indicator.ranges, indicator.critical, indicator.plausible = ranges, critical, plausible
    db.session.flush()
    return version


def versions(indicator_id: int) -> list[IndicatorVersion]:
    return list(db.session.scalars(select(IndicatorVersion).where(IndicatorVersion.indicator_id == indicator_id)
                                   .order_by(IndicatorVersion.version.desc())))


def get(indicator_id: int) -> Indicator | None:
    return db.session.scalar(select(Indicator).where(Indicator.id == indicator_id))
