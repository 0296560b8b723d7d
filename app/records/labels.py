"""Display names of the records vocabularies."""
import re

from flask_babel import lazy_gettext as _l

GROUP = {"vitals": _l("Vital signs"), "body": _l("Body measurements"), "glucose": _l("Glucose"),
         "lipids": _l("Lipids"), "liver": _l("Liver function"), "kidney": _l("Kidney function"),
         "electrolytes": _l("Electrolytes"), "blood": _l("Blood count"), "thyroid": _l("Thyroid"),
         "tumour": _l("Tumour markers"), "inflammation": _l("Inflammation"), "urine": _l("Urine routine"),
         "imaging": _l("ECG and imaging"), "questionnaire": _l("Questionnaire scores"),
         "other": _l("Other")}
# Words as well as colour: a flag must read without colour vision.
FLAG = {"H": _l("high"), "L": _l("low"), "HH": _l("critically high"), "LL": _l("critically low"),
        "A": _l("abnormal")}
# An arrow beside the words (never instead of them): one for out of range, two for a critical value.
ARROW = {"H": "↑", "L": "↓", "HH": "↑↑", "LL": "↓↓", "A": "!"}
CRITICAL = ("HH", "LL")
# against the checkup before, in words a patient reads without a glossary (the portal, printed reports)
PLAIN_CHANGE = {"new": _l("newly outside the interval"), "persisting": _l("also outside it last time"),
                "resolved": _l("back within the interval"), "no_range": _l("no interval to judge it by")}
CHANGE = {"new": _l("new"), "persisting": _l("persisting"), "resolved": _l("resolved"),
          "no_range": _l("no range")}  # no_range: a value after an abnormal one, with no interval to judge it by
ALERT_KIND = {"critical": _l("Critical"), "abnormal": _l("Newly abnormal")}
ALERT_STATUS = {"open": _l("Open"), "acknowledged": _l("Acknowledged"), "withdrawn": _l("Withdrawn")}
INFORMED = {"patient": _l("The patient"), "family": _l("A family member"), "doctor": _l("Another doctor"),
            "other": _l("Someone else")}
WAITING_REASONS = {"unmapped": _l("unknown code"), "no_unit": _l("sent without a unit"),
                   "unit": _l("unit not convertible")}
COLUMN = {"card_no": _l("Card number"), "name": _l("Name"), "id_number": _l("ID number"), "sex": _l("Sex"),
          "birth_date": _l("Date of birth"), "exam_date": _l("Exam date"), "item": _l("Test name"),
          "code": _l("Test code"), "value": _l("Result"), "unit": _l("Unit"), "range": _l("Reference range"),
          "flag": _l("Abnormal flag")}


def flag_words(flag: str | None) -> str:
    """A result's flag in words (偏高, 偏低, 危急偏高, ...); "" for a normal or unflagged result."""
    return str(FLAG[flag]) if flag in FLAG else ""


_ALERT_FLAG = re.compile(r" \((HH|LL|H|L|A)\)$")


def alert_summary(summary: str) -> str:
    """An alert's stored summary ("空腹血糖 7.9 mmol/L (H); 收缩压 186 mm[Hg] (HH)") with each flag in words
    and each unit as people write it ("空腹血糖 7.9 mmol/L（偏高）; 收缩压 186 mmHg（危急偏高）")."""
    return "; ".join(_alert_item(part) for part in (summary or "").split("; "))


def _alert_item(summary: str) -> str:
    from app.core.i18n import select_locale
    from app.records import units

    match = _ALERT_FLAG.search(summary or "")
    text = summary[:match.start()] if match else (summary or "")
    head, _space, last = text.rpartition(" ")
    if head and last:
        text = f"{head} {units.display(last, select_locale())}"
    if not match:
        return text
    words = flag_words(match.group(1))
    return f"{text}（{words}）" if select_locale().startswith("zh") else f"{text} ({words})"


def import_summary(summary) -> str:
    """One sentence on an import's outcome (an importer.ImportSummary)."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    return _("%(imported)s (%(results)s); %(duplicates)s; %(unmatched)s; %(errors)s.",
             imported=ngettext("Imported %(num)d report", "Imported %(num)d reports", summary.imported),
             results=ngettext("%(num)d result", "%(num)d results", summary.results),
             duplicates=ngettext("%(num)d duplicate skipped", "%(num)d duplicates skipped", summary.duplicates),
             unmatched=ngettext("%(num)d waiting for a patient", "%(num)d waiting for a patient", summary.unmatched),
             errors=ngettext("%(num)d error", "%(num)d errors", len(summary.errors))) + "".join(
        " " + text for text in (
            ngettext("%(num)d result waits on the lab codes page.", "%(num)d results wait on the lab codes page.",
                     summary.waiting) if summary.waiting else "",
            ngettext("%(num)d result retracted by the lab.", "%(num)d results retracted by the lab.",
                     summary.retracted) if summary.retracted else ""))


def _limit(value) -> str | None:
    """A limit as written: 6.1, 100 (not 100.0); None or an empty entry is no limit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def range_text(low=None, high=None, high_inclusive: bool = False) -> str:
    """A reference range as a reader expects it: "3.9–6.1" with both limits, "≥ 3.9" with only the
    lower one, "< 6.1" with only an upper one that is itself out of range (``high_inclusive``) and
    "≤ 6.1" otherwise. A stored range (a dict with low, high, high_inclusive) may be given as ``low``."""
    if isinstance(low, dict):
        low, high, high_inclusive = low.get("low"), low.get("high"), bool(low.get("high_inclusive"))
    low, high = _limit(low), _limit(high)
    if low is not None and high is not None:
        return f"{low}–{high}"
    if low is not None:
        return f"≥ {low}"
    if high is not None:
        return f"{'<' if high_inclusive else '≤'} {high}"
    return ""


def indicator_name(indicator, locale: str | None = None) -> str:
    """An indicator's name in the reader's language (its Chinese name where it has no English one)."""
    if locale is None:
        from app.core.i18n import select_locale

        locale = select_locale()
    return indicator.name_zh if locale.startswith("zh") else (indicator.name_en or indicator.name_zh)
