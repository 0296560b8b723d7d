"""Units as people write them. The data keeps UCUM codes (mm[Hg], umol/L,
mL/min/{1.73_m2}); pages, charts and messages show mmHg, μmol/L,
mL/min/1.73 m². Independent of the catalogue: a code not listed here is shown
as it is."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_SHOWN = {
    "mm[Hg]": "mmHg",
    "umol/L": "μmol/L",
    "nmol/L": "nmol/L",
    "pmol/L": "pmol/L",
    "ug/L": "μg/L",
    "ug/dL": "μg/dL",
    "ng/mL": "ng/mL",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "mL/min/1.73m2": "mL/min/1.73 m²",
    "m[IU]/L": "mIU/L",
    "u[IU]/mL": "μIU/mL",
    "uIU/mL": "μIU/mL",
    "[IU]/L": "IU/L",
    "10*9/L": "×10⁹/L",
    "10*12/L": "×10¹²/L",
    "10*6/uL": "×10⁶/μL",
    "10*3/uL": "×10³/μL",
    "kg/m2": "kg/m²",
    "Cel": "℃",
    "[degF]": "℉",
    "{ratio}": "",
    "1": "",
}
# Counts per minute read differently in each language: 次/分 in Chinese, /min (bpm) in English.
_PER_MINUTE = {"/min": ("次/分", "/min"), "{beats}/min": ("次/分", "bpm"), "{breaths}/min": ("次/分", "/min")}


def display(ucum: str | None, locale: str | None = "zh_CN") -> str:
    """The unit as printed on a report: ``display("umol/L") == "μmol/L"``."""
    code = (ucum or "").strip()
    if code in _PER_MINUTE:
        zh, en = _PER_MINUTE[code]
        return zh if (locale or "zh").startswith("zh") else en
    return _SHOWN.get(code, code)


def number(value: float | None, decimals: int | None) -> str:
    """A value rounded half up to ``decimals`` places for display (the stored value keeps its precision);
    168.80253764416227 with 1 decimal is "168.8". None is ""."""
    if value is None:
        return ""
    places = 2 if decimals is None else max(0, min(int(decimals), 6))
    try:
        exact = Decimal(repr(float(value)))
    except (InvalidOperation, ValueError):
        return str(value)
    if not exact.is_finite():
        return str(value)
    shown = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{shown:f}"
    return "0" if text.lstrip("-").strip("0.") == "" and text.startswith("-") else text
