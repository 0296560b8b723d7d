"""The stage summary's sentences: each has a key, default words (translated as every string is) and the
numbers and names it may use. A clinic may put its own words for any of them, per language; its words may
use only that sentence's placeholders, so a draft can always be written."""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.errors import FieldErrors

# key -> (default words, sample values: also the placeholders the sentence may use)
SENTENCES: dict[str, tuple[object, dict]] = {
    "measurement": (_l("%(name)s: %(value)s%(unit)s (%(status)s)"),
                    {"name": "空腹血糖", "value": "5.20", "unit": " mmol/L", "status": "正常"}),
    "measurement_change": (_l("%(name)s: %(first)s → %(last)s%(unit)s, %(direction)s (now %(status)s)"),
                           {"name": "空腹血糖", "first": "5.20", "last": "7.40", "unit": " mmol/L",
                            "direction": "上升", "status": "偏高"}),
    "risk": (_l("%(model)s: %(value)s%(band)s"), {"model": "Framingham", "value": "8.1%", "band": ""}),
    "risk_change": (_l("%(model)s: %(then)s → %(now)s%(band)s"),
                    {"model": "Framingham", "then": "9.6%", "now": "8.1%", "band": ""}),
    "plan": (_l("%(plan)s (%(start)s to %(end)s): %(met)d of %(goals)d goals met"),
             {"plan": "高血压干预", "start": "2026-01-01", "end": "2026-06-30", "met": 1, "goals": 2}),
    "contacts": (_l("%(total)d follow-up contacts: %(parts)s"), {"total": 3, "parts": "接通 3"}),
    "no_contacts": (_l("No follow-up contact was recorded in the period."), {}),
    "next_followup": (_l("Next follow-up due on %(date)s."), {"date": "2026-07-01"}),
    "recheck": (_l("Recheck at the next visit: %(names)s."), {"names": "空腹血糖"}),
    "plan_continues": (_l("%(plan)s continues until %(date)s."), {"plan": "高血压干预", "date": "2026-06-30"}),
    "keep_going": (_l("Keep to the advice given; the next exam as the clinic schedules it."), {}),
}
LOCALES = ("zh_CN", "en")
MAX_WORDS = 300
_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


def default(key: str) -> str:
    return str(SENTENCES[key][0])


def write(key: str, overrides: dict, locale: str, **values) -> str:
    """The sentence in the clinic's words for ``locale`` if it has some, else the default's."""
    words = (overrides.get(locale) or {}).get(key) or str(SENTENCES[key][0])
    return words % values if "%" in words else words


def checked(typed: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """{locale: {key: words}} of the non-empty typed words; FieldErrors name ``sentence-<locale>-<key>``."""
    errors: dict[str, str] = {}
    kept: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        for key, (_words, sample) in SENTENCES.items():
            text = " ".join((typed.get(locale, {}).get(key) or "").split())
            if not text:
                continue
            problem = _problem(text, sample)
            if problem:
                errors[f"sentence-{locale}-{key}"] = problem
            else:
                kept.setdefault(locale, {})[key] = text
    if errors:
        raise FieldErrors(errors)
    return kept


def _problem(text: str, sample: dict) -> str:
    if len(text) > MAX_WORDS:
        return _("Keep it under %(n)d characters.", n=MAX_WORDS)
    unknown = sorted({name for name, _kind in _PLACEHOLDER.findall(text)} - set(sample))
    if unknown:
        return _("This sentence cannot use %(names)s; it may use %(allowed)s.",
                 names=", ".join(f"%({n})s" for n in unknown),
                 allowed=", ".join(f"%({n})s" for n in sample) or _("no placeholders"))
    if "%" in _PLACEHOLDER.sub("", text).replace("%%", ""):
        return _("Write a placeholder as %(example)s, and a percent sign as %(percent)s.", example="%(name)s",
                 percent="%%")
    return ""
