"""Conditions and personalisation without a database: which items apply and
why, the numbers placeholders show, and what a missing number says."""
import pytest
from flask_babel import force_locale

from app.core.errors import FieldErrors
from app.interventions import advice_conditions, advice_personal
from app.interventions.advice_conditions import PatientFacts
from app.questionnaires.answers import weekly_activity


def _facts(**kw):
    return PatientFacts(sex=kw.pop("sex", "M"), age=kw.pop("age", 50), **kw)


def test_an_item_without_leaves_applies_to_everyone_of_its_ages():
    conditions = {"any": [], "age_min": 65}
    assert advice_conditions.why(conditions, _facts(age=64)) is None
    assert advice_conditions.why(conditions, _facts(age=65)) == [{"everyone": True}, {"age_min": 65, "age_max": None}]


def test_any_leaf_makes_it_apply_and_is_kept_with_the_patients_own_band():
    conditions = {"any": [{"risk": "weight_status", "bands": ["overweight", "obese"]}, {"tag": "超重"},
                          {"questionnaire": "phq9", "score": "total", "bands": ["moderate"]},
                          {"habit": "smoking", "values": ["current"]}]}
    assert advice_conditions.why(conditions, _facts()) is None
    assert advice_conditions.why(conditions, _facts(risk={"weight_status": "obese"})) == [
        {"risk": "weight_status", "band": "obese"}]
    assert advice_conditions.why(conditions, _facts(tags={"超重"})) == [{"tag": "超重"}]
    assert advice_conditions.why(conditions, _facts(scores={("phq9", "total"): "moderate"})) == [
        {"questionnaire": "phq9", "score": "total", "band": "moderate"}]
    assert advice_conditions.why(conditions, _facts(scores={("phq9", "total"): "mild"})) is None
    assert advice_conditions.why(conditions, _facts(habits={"smoking": "current"})) == [
        {"habit": "smoking", "value": "current"}]


def test_sex_and_age_must_hold_as_well():
    conditions = {"any": [{"tag": "超重"}], "sex": "F", "age_max": 60}
    assert advice_conditions.why(conditions, _facts(sex="M", tags={"超重"})) is None
    assert advice_conditions.why(conditions, _facts(sex="F", age=61, tags={"超重"})) is None
    assert advice_conditions.why(conditions, _facts(sex="F", age=60, tags={"超重"})) == [
        {"tag": "超重"}, {"age_min": None, "age_max": 60}, {"sex": "F"}]


MESSAGES = {"unknown_tags": "unknown %(names)s", "age": "age", "age_order": "order", "sex": "sex"}


def test_the_form_is_parsed_into_conditions_and_back():
    conditions = advice_conditions.parse(
        tags="超重， 肥胖", chosen=["risk:bp_grade:grade_1", "risk:bp_grade:grade_2", "q:phq9:total:mild", "bogus"],
        age_min="18", age_max="", sex="F", known_tags={"超重", "肥胖"},
        known_choices={"risk:bp_grade:grade_1", "risk:bp_grade:grade_2", "q:phq9:total:mild"}, messages=MESSAGES)
    assert conditions == {"any": [{"tag": "超重"}, {"tag": "肥胖"},
                                  {"risk": "bp_grade", "bands": ["grade_1", "grade_2"]},
                                  {"questionnaire": "phq9", "score": "total", "bands": ["mild"]}],
                          "age_min": 18, "sex": "F"}
    assert advice_conditions.choices_of(conditions) == (
        "超重, 肥胖", ["risk:bp_grade:grade_1", "risk:bp_grade:grade_2", "q:phq9:total:mild"])


def test_bad_form_values_are_refused_field_by_field():
    with pytest.raises(FieldErrors) as refused:
        advice_conditions.parse(tags="无此标签", chosen=[], age_min="70", age_max="60", sex="X", known_tags=set(),
                                known_choices=set(), messages=MESSAGES)
    assert set(refused.value.errors) == {"tags", "age_max", "sex"}


@pytest.mark.parametrize(("bmi", "band"), [(18.4, "underweight"), (18.5, "normal"), (23.9, "normal"),
                                           (24.0, "overweight"), (27.9, "overweight"), (28.0, "obese")])
def test_bmi_bands_of_ws_t_428(bmi, band):
    assert advice_personal.bmi_band(bmi) == band


def test_target_weight_is_bmi_18_5_to_23_9_at_the_patients_height():
    assert advice_personal.target_weights(170) == (53.5, 69.1)  # 18.5 × 1.7² = 53.465; 23.9 × 1.7² = 69.071
    assert advice_personal.target_weights(158) == (46.2, 59.7)


def _numbers(**kw):
    base = {"sex": "M", "height_cm": None, "weight_kg": None, "bmi": None, "waist_cm": None, "activity": None}
    base.update(kw)
    return base


def test_bmi_exactly_24_is_overweight_with_the_target_range(app):
    numbers = _numbers(height_cm={"value": 170.0, "on": "2026-01-01"}, weight_kg={"value": 69.4, "on": "2026-01-01"},
                       bmi={"value": 24.0, "on": "2026-01-01"})
    with app.test_request_context(), force_locale("en"):
        got, needs = advice_personal.values(numbers)
        text, missing = advice_personal.fill("BMI {bmi} ({bmi_band}); aim {target_weight_low}–{target_weight_high} kg",
                                             got, needs)
    assert text == "BMI 24 (overweight); aim 53.5–69.1 kg"
    assert missing == []


def test_a_missing_height_says_what_is_needed_and_guesses_nothing(app):
    numbers = _numbers(weight_kg={"value": 80.0, "on": "2026-01-01"})
    with app.test_request_context(), force_locale("en"):
        got, needs = advice_personal.values(numbers)
        text, missing = advice_personal.fill("Healthy weight {target_weight_low}–{target_weight_high} kg", got, needs)
    assert "target_weight_low" not in got
    assert text == "Healthy weight [needed: a measured height]–[needed: a measured height] kg"
    assert missing == ["a measured height"]


def test_without_an_ipaq_the_activity_minutes_say_so(app):
    with app.test_request_context(), force_locale("en"):
        got, needs = advice_personal.values(_numbers())
        text, missing = advice_personal.fill("{activity_minutes} minutes", got, needs)
    assert text == "[needed: a physical activity questionnaire (IPAQ)] minutes"
    assert missing == ["a physical activity questionnaire (IPAQ)"]


def test_waist_against_the_cut_offs_by_sex(app):
    with app.test_request_context(), force_locale("en"):
        man, _ = advice_personal.values(_numbers(waist_cm={"value": 90.0, "on": "2026-01-01"}))
        woman, _ = advice_personal.values(_numbers(sex="F", waist_cm={"value": 82.0, "on": "2026-01-01"}))
    assert man["waist_band"] == "at or above the central-obesity cut-off of 90 cm"
    assert man["waist_target"] == "85"
    assert woman["waist_band"] == "at or above the pre-central-obesity cut-off of 80 cm"


def test_ipaq_minutes_cap_each_day_at_180_and_count_vigorous_twice():
    week = weekly_activity({"vig_days": 2, "vig_minutes": 30, "mod_days": 3, "mod_minutes": 200, "walk_days": 7,
                            "walk_minutes": 40})
    assert (week.vigorous, week.moderate, week.walking) == (60, 540, 280)
    activity = {"vigorous": 60, "moderate": 540, "walking": 280, "missing": [], "excluded": False}
    assert advice_personal.equivalent_minutes(activity) == 660


def test_ipaq_without_minutes_or_over_960_a_day_gives_no_figure(app):
    week = weekly_activity({"vig_days": 0, "mod_days": 3, "walk_days": 0})
    assert week.moderate is None and week.missing == ("mod_minutes",)
    too_much = weekly_activity({"vig_days": 1, "vig_minutes": 600, "mod_days": 1, "mod_minutes": 400, "walk_days": 0})
    assert too_much.excluded
    with app.test_request_context(), force_locale("en"):
        got, needs = advice_personal.values(_numbers(activity={
            "vigorous": 0, "moderate": None, "walking": 0, "missing": ["mod_minutes"], "excluded": False, "on": "x"}))
    assert "activity_minutes" not in got
    assert needs["activity_minutes"] == "the days and minutes of moderate and vigorous activity in the IPAQ"


def test_activity_below_150_says_how_many_minutes_more(app):
    with app.test_request_context(), force_locale("en"):
        got, _ = advice_personal.values(_numbers(activity={
            "vigorous": 0, "moderate": 90, "walking": 0, "missing": [], "excluded": False, "on": "x"}))
    assert got["activity_minutes"] == "90"
    assert got["activity_gap_words"] == "60 more minutes a week would reach it"


def test_the_pack_uses_only_known_placeholders_and_cites_a_source():
    from tenants import packs

    for spec in packs.load("advice")["items"]:
        for locale in ("zh", "en"):
            assert advice_personal.unknown_placeholders(spec["body"][locale]) == [], spec["key"]
            assert spec["title"][locale].strip()
        assert spec["source"].strip(), spec["key"]
        assert spec["category"] in ("diet", "exercise", "weight", "mental", "sleep", "smoking_alcohol")
