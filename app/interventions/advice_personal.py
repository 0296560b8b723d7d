"""What makes an advice sheet personal: the facts its items' conditions
read (tags, risk bands, questionnaire bands, habits, age and sex), and the
patient's numbers its placeholders show (BMI and the weight range of BMI
18.5–23.9 for their height, waist against the WS/T 428 cut-offs, weekly
activity minutes from the newest IPAQ response against 150).

A number that cannot be had is never guessed: the placeholder says what is
needed instead, and the entry lists it for the staff who edit the sheet."""
import re

from flask_babel import gettext as _

from app.core import clock
from app.interventions.advice_conditions import SCORED, PatientFacts
from app.questionnaires import services as questionnaires
from app.records import services as records
from app.risk import services as risk_services
from app.tagging import services as tagging

HEIGHT, WEIGHT, BMI, WAIST = "8302-2", "29463-7", "39156-5", "8280-0"
NORMAL_BMI = (18.5, 23.9)                     # WS/T 428-2013 normal range
WAIST_CUTOFFS = {"M": (85, 90), "F": (80, 85)}  # WS/T 428-2013: pre-central, central obesity (cm)
WEEKLY_MINUTES = 150                          # WHO 2020; Chinese Dietary Guidelines 2022
PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = ("bmi", "bmi_band", "height_cm", "weight_kg", "target_weight_low", "target_weight_high",
                "waist_cm", "waist_band", "waist_target", "activity_minutes", "activity_gap_words")


def facts_of(patient) -> PatientFacts:
    facts = PatientFacts(sex=patient.sex, age=patient.age,
                         habits={"smoking": patient.smoking or "", "alcohol": patient.alcohol or ""})
    for tag in tagging.tags_of_patients([patient.id]).get(patient.id, []):
        facts.tags.update(n for n in (tag.name, tag.name_en) if n)
    for shown in risk_services.current_for(patient.id):
        if shown.row is not None and shown.row.status == "ok" and shown.row.band:
            facts.risk[shown.definition["id"]] = shown.row.band
    for key in dict.fromkeys(k for k, _s in SCORED):
        found = questionnaires.latest_answers(key, [patient.id]).get(patient.id)
        for score in found.scores if found else []:
            if score.get("band"):
                facts.scores[(key, score["key"])] = score["band"]
    return facts


def _value(latest: dict, code: str):
    found = latest.get(code)
    if found is None:
        return None
    return {"value": round(float(found.value), 1), "on": clock.local_date(found.observed_at).isoformat()}


def numbers_of(patient) -> dict:
    """The patient's numbers as the sheet keeps them (JSON): each {value, on} or None."""
    latest = records.latest_values([HEIGHT, WEIGHT, BMI, WAIST], [patient.id]).get(patient.id, {})
    height, weight, waist = _value(latest, HEIGHT), _value(latest, WEIGHT), _value(latest, WAIST)
    bmi = _value(latest, BMI)
    if bmi is None and height and weight and height["value"] > 0:
        bmi = {"value": round(weight["value"] / (height["value"] / 100) ** 2, 1),
               "on": max(height["on"], weight["on"]), "derived": True}
    numbers = {"sex": patient.sex, "height_cm": height, "weight_kg": weight, "bmi": bmi, "waist_cm": waist,
               "activity": None}
    ipaq = questionnaires.latest_answers("ipaq_short", [patient.id]).get(patient.id)
    if ipaq is not None:
        week = questionnaires.weekly_activity(ipaq.answers)
        numbers["activity"] = {
            "vigorous": week.vigorous, "moderate": week.moderate, "walking": week.walking,
            "missing": list(week.missing), "excluded": week.excluded,
            "on": clock.local_date(ipaq.submitted_at).isoformat()}
    return numbers


def bmi_band(bmi: float) -> str:
    """WS/T 428-2013, as the weight_status model reads it."""
    if bmi < 18.5:
        return "underweight"
    if bmi < 24.0:
        return "normal"
    if bmi < 28.0:
        return "overweight"
    return "obese"


def target_weights(height_cm: float) -> tuple[float, float]:
    """The weights of BMI 18.5 and 23.9 at this height (kg, one decimal)."""
    metres = height_cm / 100
    return round(NORMAL_BMI[0] * metres ** 2, 1), round(NORMAL_BMI[1] * metres ** 2, 1)


def equivalent_minutes(activity: dict | None) -> int | None:
    """Moderate minutes a week with vigorous minutes counted twice (WHO 2020: 150 moderate or 75
    vigorous, or an equivalent combination). Walking is left out: the form does not ask its pace."""
    if not activity or activity.get("excluded") or activity.get("moderate") is None \
            or activity.get("vigorous") is None:
        return None
    return int(activity["moderate"]) + 2 * int(activity["vigorous"])


def _band_words(code: str) -> str:
    return {"underweight": _("underweight"), "normal": _("normal weight"), "overweight": _("overweight"),
            "obese": _("obese")}[code]


def _fmt(number: float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def values(numbers: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(placeholder -> text, placeholder -> what is needed), in the current locale."""
    got: dict[str, str] = {}
    needs: dict[str, str] = {}
    height, weight, bmi, waist = (numbers.get(k) for k in ("height_cm", "weight_kg", "bmi", "waist_cm"))
    if bmi:
        got["bmi"], got["bmi_band"] = _fmt(bmi["value"]), _band_words(bmi_band(bmi["value"]))
    else:
        needs["bmi"] = needs["bmi_band"] = _("a measured height and weight")
    if height:
        low, high = target_weights(height["value"])
        got.update(height_cm=_fmt(height["value"]), target_weight_low=_fmt(low), target_weight_high=_fmt(high))
    else:
        for key in ("height_cm", "target_weight_low", "target_weight_high"):
            needs[key] = _("a measured height")
    if weight:
        got["weight_kg"] = _fmt(weight["value"])
    else:
        needs["weight_kg"] = _("a measured weight")
    cutoffs = WAIST_CUTOFFS.get(numbers.get("sex") or "")
    if cutoffs:
        got["waist_target"] = str(cutoffs[0])
    else:
        needs["waist_target"] = _("the patient's sex")
    if waist and cutoffs:
        got["waist_cm"] = _fmt(waist["value"])
        if waist["value"] >= cutoffs[1]:
            got["waist_band"] = _("at or above the central-obesity cut-off of %(cm)d cm", cm=cutoffs[1])
        elif waist["value"] >= cutoffs[0]:
            got["waist_band"] = _("at or above the pre-central-obesity cut-off of %(cm)d cm", cm=cutoffs[0])
        else:
            got["waist_band"] = _("below the cut-off of %(cm)d cm", cm=cutoffs[0])
    else:
        needs["waist_cm"] = needs["waist_band"] = _("a measured waist")
    _activity(numbers.get("activity"), got, needs)
    return got, needs


def _activity(activity: dict | None, got: dict, needs: dict) -> None:
    minutes = equivalent_minutes(activity)
    if minutes is None:
        if activity is None:
            need = _("a physical activity questionnaire (IPAQ)")
        elif activity.get("excluded"):
            need = _("a physical activity questionnaire that can be scored (the latest adds up to more than "
                     "960 minutes a day)")
        else:
            need = _("the days and minutes of moderate and vigorous activity in the IPAQ")
        needs["activity_minutes"] = needs["activity_gap_words"] = need
        return
    got["activity_minutes"] = str(minutes)
    if minutes >= WEEKLY_MINUTES:
        got["activity_gap_words"] = _("you reach it; keep it up")
    else:
        got["activity_gap_words"] = _("%(minutes)d more minutes a week would reach it",
                                      minutes=WEEKLY_MINUTES - minutes)


def fill(text: str, got: dict[str, str], needs: dict[str, str]) -> tuple[str, list[str]]:
    """The text with each placeholder filled, or saying what it needs; and the needs met in it."""
    missing: list[str] = []

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name in got:
            return got[name]
        if name in needs:
            if needs[name] not in missing:
                missing.append(needs[name])
            return _("[needed: %(what)s]", what=needs[name])
        return match.group(0)

    return PLACEHOLDER.sub(one, text), missing


def unknown_placeholders(text: str) -> list[str]:
    return [n for n in dict.fromkeys(PLACEHOLDER.findall(text)) if n not in PLACEHOLDERS]
