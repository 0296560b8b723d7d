"""Units by their UCUM meaning (ucumvert, on pint).

Labs write units in many spellings: ``mg/dl`` for ``mg/dL``, ``mmol/l``, ``mm Hg``,
``µmol/L``, ``10^9/L``, ``次/分``. ``code`` turns a spelling into a UCUM code when it
can; ``factor`` gives the multiplier from one unit to another of the same dimension
(``ug/dL`` -> ``mg/dL`` is 0.001). Conversions between mass and amount of substance
need the analyte's molar mass and stay in the catalogue (``alt_units``).
"""
import functools
import math
import re

# Spellings UCUM's own grammar does not read, folded (lower case, no spaces) to a UCUM code.
_SPELLINGS = {
    "mmhg": "mm[Hg]", "bpm": "/min", "beats/min": "/min", "beats/minute": "/min", "次/分": "/min",
    "次/分钟": "/min", "1/min": "/min", "/min": "/min", "kg/m²": "kg/m2", "kg/m^2": "kg/m2",
    "ml/min/1.73m2": "mL/min/{1.73_m2}", "ml/min/1.73m²": "mL/min/{1.73_m2}",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}", "ml/min/1.73m^2": "mL/min/{1.73_m2}",
    "iu/l": "[IU]/L", "miu/l": "m[IU]/L", "uiu/ml": "u[IU]/mL", "miu/ml": "m[IU]/mL", "iu/ml": "[IU]/mL",
    "u/ml": "U/mL", "ku/l": "kU/L", "10^9/l": "10*9/L", "x10^9/l": "10*9/L", "×10^9/l": "10*9/L",
    "10^12/l": "10*12/L", "x10^12/l": "10*12/L", "×10^12/l": "10*12/L", "10e9/l": "10*9/L",
    "10e12/l": "10*12/L", "g/dl": "g/dL", "mg/dl": "mg/dL", "ug/dl": "ug/dL", "ng/dl": "ng/dL",
    "mmol/l": "mmol/L", "umol/l": "umol/L", "nmol/l": "nmol/L", "pmol/l": "pmol/L", "mol/l": "mol/L",
    "g/l": "g/L", "mg/l": "mg/L", "ug/l": "ug/L", "ng/l": "ng/L", "ng/ml": "ng/mL", "pg/ml": "pg/mL",
    "ug/ml": "ug/mL", "u/l": "U/L", "fl": "fL", "pg": "pg", "mg/g": "mg/g", "mg/mmol": "mg/mmol",
    "%": "%", "cm": "cm", "m": "m", "kg": "kg", "mm": "mm", "kg/m2": "kg/m2", "mg/24h": "mg/(24.h)",
    "s": "s", "sec": "s", "ms": "ms", "℃": "Cel", "°c": "Cel", "cel": "Cel", "[degc]": "Cel",
}
# Stored spellings that are not UCUM codes (kept: stored fingerprints include them).
_AS_UCUM = {"uIU/mL": "u[IU]/mL"}


@functools.cache
def _registry():
    from ucumvert import PintUcumRegistry  # type: ignore[import-untyped]  # first use: building it takes 0.5 s

    return PintUcumRegistry()


def _folded(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("µ", "u").replace("μ", "u").replace("²", "2")).lower()


@functools.lru_cache(maxsize=2048)
def _quantity(code: str):
    try:
        return _registry().from_ucum(code)
    except Exception:  # noqa: BLE001 - ucumvert raises lark and pint errors for text it cannot read
        return None


def code(unit: str) -> str:
    """A unit as labs write it -> its UCUM code; "" when empty; the text itself when unknown."""
    text = (unit or "").strip()
    if not text:
        return ""
    folded = _folded(text)
    if folded in _SPELLINGS:
        return _SPELLINGS[folded]
    return text


def known(unit: str) -> bool:
    """Whether UCUM reads the unit (after the usual spellings are folded)."""
    text = code(unit)
    return bool(text) and _quantity(_AS_UCUM.get(text, text)) is not None


@functools.lru_cache(maxsize=4096)
def factor(source: str, target: str) -> float | None:
    """The multiplier from ``source`` to ``target`` when both are UCUM units of one dimension, else None."""
    if not source or not target:
        return None
    if source == target:
        return 1.0
    left, right = (_quantity(_AS_UCUM.get(u, u)) for u in (source, target))
    if left is None or right is None:
        return None
    try:
        if left.dimensionality != right.dimensionality:
            return None
        value = float((left / right).to_base_units().magnitude)
    except Exception:  # noqa: BLE001 - pint raises its own errors for offset units (Cel) and the like
        return None
    return value if math.isfinite(value) and value > 0 else None
