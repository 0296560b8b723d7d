"""Advice as the pages show it: why an entry applies, in words; the choices
of the library form (every risk band, questionnaire band and habit an item
may be keyed to); the patient's numbers in a line each."""
import json
from functools import cache

from flask_babel import get_locale
from flask_babel import gettext as _

from app.interventions import advice_labels, advice_personal
from app.interventions.advice_conditions import HABITS, SCORED
from app.patients import services as patients
from app.risk import services as risk_services
from tenants.packs import PACKS


def _zh() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def _words(named: dict) -> str:
    return named.get("zh" if _zh() else "en") or named.get("en", "")


@cache
def _questionnaire_bands() -> dict[tuple[str, str], list[dict]]:
    found = {}
    for key, score in SCORED:
        definition = json.loads((PACKS / "questionnaires" / f"{key}.json").read_text(encoding="utf-8"))
        spec = next(s for s in definition["scores"] if s["key"] == score)
        found[(key, score)] = spec["bands"]
    return found


def _risk_band(model: str, band: str) -> tuple[str, str]:
    definition = risk_services.all_models().get(model)
    if definition is None:
        return model, band
    named = next((b for b in definition["bands"] if b["code"] == band), None)
    return _words(definition["name"]), (_words(named["name"]) if named and "name" in named else band)


def _questionnaire_band(key: str, score: str, band: str) -> str:
    named = next((b for b in _questionnaire_bands().get((key, score), []) if b["key"] == band), None)
    return _words(named["label"]) if named else band


def reason_words(reason: dict) -> str:
    if "tag" in reason:
        return _("tag “%(name)s”", name=reason["tag"])
    if "risk" in reason:
        model, band = _risk_band(reason["risk"], reason.get("band", ""))
        return _("%(model)s: %(band)s", model=model, band=band)
    if "questionnaire" in reason:
        name = advice_labels.QUESTIONNAIRE.get(reason["questionnaire"], reason["questionnaire"])
        band = _questionnaire_band(reason["questionnaire"], reason.get("score", "total"), reason.get("band", ""))
        return _("%(model)s: %(band)s", model=name, band=band)
    if "habit" in reason:
        table = patients.labels.SMOKING if reason["habit"] == "smoking" else patients.labels.ALCOHOL
        return str(table.get(reason.get("value", ""), reason.get("value", "")))
    if reason.get("everyone"):
        return _("general advice")
    if "sex" in reason:
        return str(advice_labels.SEX.get(reason["sex"], reason["sex"]))
    if "age_min" in reason or "age_max" in reason:
        return age_words(reason.get("age_min"), reason.get("age_max"))
    return ""


def age_words(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return _("aged %(low)d–%(high)d", low=low, high=high)
    if low is not None:
        return _("aged %(low)d or over", low=low)
    if high is not None:
        return _("aged %(high)d or under", high=high)
    return ""


def conditions_words(conditions: dict) -> str:
    """An item's conditions in one line, for the library list."""
    parts = []
    for leaf in conditions.get("any") or []:
        if "tag" in leaf:
            parts.append(reason_words(leaf))
        elif "risk" in leaf:
            model = _risk_band(leaf["risk"], "")[0]
            parts.append(_("%(model)s: %(band)s", model=model,
                           band=" / ".join(_risk_band(leaf["risk"], b)[1] for b in leaf.get("bands", ()))))
        elif "questionnaire" in leaf:
            name = advice_labels.QUESTIONNAIRE.get(leaf["questionnaire"], leaf["questionnaire"])
            parts.append(_("%(model)s: %(band)s", model=name, band=" / ".join(
                _questionnaire_band(leaf["questionnaire"], leaf.get("score", "total"), b)
                for b in leaf.get("bands", ()))))
        elif "habit" in leaf:
            parts.append(" / ".join(reason_words({"habit": leaf["habit"], "value": v}) for v in leaf.get("values", ())))
    line = _(" or ").join(parts) if parts else _("everyone")
    extra = [w for w in (age_words(conditions.get("age_min"), conditions.get("age_max")),
                         str(advice_labels.SEX[conditions["sex"]]) if conditions.get("sex") else "") if w]
    return line + (" · " + " · ".join(extra) if extra else "")


def form_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group heading, [(value, label)]) of every band and habit the library form offers."""
    groups = []
    for model, definition in risk_services.all_models().items():
        groups.append((_words(definition["name"]),
                       [(f"risk:{model}:{b['code']}", _words(b["name"]) if "name" in b else b["code"])
                        for b in definition["bands"]]))
    for (key, score), bands in _questionnaire_bands().items():
        groups.append((str(advice_labels.QUESTIONNAIRE[key]),
                       [(f"q:{key}:{score}:{b['key']}", _words(b["label"])) for b in bands]))
    for habit, values in HABITS.items():
        table = patients.labels.SMOKING if habit == "smoking" else patients.labels.ALCOHOL
        groups.append((str(advice_labels.HABIT[habit]), [(f"habit:{habit}:{v}", str(table[v])) for v in values]))
    return groups


def number_lines(numbers: dict) -> list[str]:
    """The patient's numbers the sheet was composed with, one line each, in the current locale."""
    lines = []
    bmi, height, weight, waist = (numbers.get(k) for k in ("bmi", "height_cm", "weight_kg", "waist_cm"))
    if height:
        lines.append(_("Height %(cm)s cm (%(on)s)", cm=f"{height['value']:g}", on=height["on"]))
    if weight:
        lines.append(_("Weight %(kg)s kg (%(on)s)", kg=f"{weight['value']:g}", on=weight["on"]))
    if bmi:
        band = advice_personal.values({"bmi": bmi})[0]["bmi_band"]
        lines.append(_("BMI %(bmi)s: %(band)s; healthy range 18.5–23.9", bmi=f"{bmi['value']:g}", band=band))
    if height:
        low, high = advice_personal.target_weights(height["value"])
        lines.append(_("Healthy weight for this height: %(low)s–%(high)s kg", low=f"{low:g}", high=f"{high:g}"))
    if waist:
        lines.append(_("Waist %(cm)s cm (%(on)s)", cm=f"{waist['value']:g}", on=waist["on"]))
    activity = numbers.get("activity")
    minutes = advice_personal.equivalent_minutes(activity)
    if activity and minutes is not None:
        lines.append(_("Activity: %(minutes)d minutes a week (moderate %(moderate)d, vigorous %(vigorous)d counted "
                       "twice; walking %(walking)s not counted) against at least 150, from the IPAQ of %(on)s",
                       minutes=minutes, moderate=activity["moderate"], vigorous=activity["vigorous"],
                       walking=activity["walking"] if activity["walking"] is not None else "—", on=activity["on"]))
    return lines
