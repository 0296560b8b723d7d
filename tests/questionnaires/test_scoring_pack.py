"""FINDRISC, IPAQ short and the satisfaction survey against hand-worked examples at every band edge."""
import pytest

from app.questionnaires.definition import clean_answers, pack_definition
from app.questionnaires.scoring import score


def by_key(result):
    return {s.key: s for s in result.scores}


# --- FINDRISC (points of Lindström & Tuomilehto 2003) ---

NONE = {"age": "lt45", "bmi": "lt25", "sex": "M", "waist_m": "lt94", "activity": "yes", "vegetables": "daily",
        "bp_medication": "no", "high_glucose": "no", "family": "no"}


@pytest.mark.parametrize(("changes", "total", "band"), [
    ({}, 0, "low"),
    # 55–64 (3) + BMI 25–30 (1) + under 30 min activity (2) = 6
    ({"age": "55_64", "bmi": "25_30", "activity": "no"}, 6, "low"),
    # the same + vegetables not every day (1) = 7
    ({"age": "55_64", "bmi": "25_30", "activity": "no", "vegetables": "not_daily"}, 7, "slightly_elevated"),
    # >64 (4) + BMI >30 (3) + woman's waist 80–88 (3) + vegetables (1) = 11
    ({"age": "gt64", "bmi": "gt30", "sex": "F", "waist_m": None, "waist_f": "80_88", "vegetables": "not_daily"},
     11, "slightly_elevated"),
    # 45–54 (2) + high glucose (5) + man's waist 94–102 (3) + activity (2) = 12
    ({"age": "45_54", "high_glucose": "yes", "waist_m": "94_102", "activity": "no"}, 12, "moderate"),
    # >64 (4) + high glucose (5) + parent with diabetes (5) = 14
    ({"age": "gt64", "high_glucose": "yes", "family": "first_degree"}, 14, "moderate"),
    # the same + vegetables (1) = 15
    ({"age": "gt64", "high_glucose": "yes", "family": "first_degree", "vegetables": "not_daily"}, 15, "high"),
    # >64 (4) + BMI >30 (3) + woman's waist >88 (4) + glucose (5) + BP drugs (2) + activity (2) = 20
    ({"age": "gt64", "bmi": "gt30", "sex": "F", "waist_m": None, "waist_f": "gt88", "high_glucose": "yes",
      "bp_medication": "yes", "activity": "no"}, 20, "high"),
    # the same + vegetables (1) = 21
    ({"age": "gt64", "bmi": "gt30", "sex": "F", "waist_m": None, "waist_f": "gt88", "high_glucose": "yes",
      "bp_medication": "yes", "activity": "no", "vegetables": "not_daily"}, 21, "very_high"),
    # every worst answer: 4 + 3 + 4 + 2 + 1 + 2 + 5 + 5 = 26; a grandparent instead of a parent counts 3
    ({"age": "gt64", "bmi": "gt30", "waist_m": "gt102", "activity": "no", "vegetables": "not_daily",
      "bp_medication": "yes", "high_glucose": "yes", "family": "first_degree"}, 26, "very_high"),
    ({"family": "second_degree"}, 3, "low"),
])
def test_findrisc_band_edges(changes, total, band):
    answers = {k: v for k, v in {**NONE, **changes}.items() if v is not None}
    (result,) = score(pack_definition("findrisc"), answers).scores
    assert (result.value, result.band) == (total, band)
    assert result.observation["code"] == "CL-FINDRISC"


def test_findrisc_waist_follows_sex():
    defn = pack_definition("findrisc")
    # a man's answers with a stray women's waist answer: it is hidden, dropped and not counted
    answers = {**NONE, "waist_f": "gt88"}
    assert "waist_f" not in clean_answers(defn, answers)
    assert score(defn, answers).scores[0].value == 0
    woman = {**NONE, "sex": "F"}
    (total,) = score(defn, woman).scores
    assert (total.value, total.missing) == (None, ("waist_f",))


# --- IPAQ short, 2005 protocol -----------------------------------------------------------------------------------


def ipaq(vig=(0, None), mod=(0, None), walk=(0, None)):
    answers = {}
    for name, (days, minutes) in (("vig", vig), ("mod", mod), ("walk", walk)):
        answers[f"{name}_days"] = days
        if minutes is not None:
            answers[f"{name}_minutes"] = minutes
    scores = by_key(score(pack_definition("ipaq_short"), answers))
    return scores["met_total"], scores["category"]


@pytest.mark.parametrize(("answers", "met", "category"), [
    # nothing at all: 0 MET-min/week, low
    ({}, 0, "low"),
    # truncation: 200 min/day of vigorous counts as 180: 8.0 × 180 × 3 = 4320 (not 4800); ≥3 days and ≥1500: high
    ({"vig": (3, 200)}, 4320, "high"),
    # high (a) edge: 8.0 × 63 × 3 = 1512 ≥ 1500 → high; 8.0 × 62 × 3 = 1488 → not high, but ≥3 days ≥20 min: moderate
    ({"vig": (3, 63)}, 1512, "high"),
    ({"vig": (3, 62)}, 1488, "moderate"),
    # high (b): walking 7 days × 130 min: 3.3 × 130 × 7 = 3003 ≥ 3000 on 7 days → high
    ({"walk": (7, 130)}, 3003, "high"),
    # 129 min: 3.3 × 129 × 7 = 2979.9 < 3000 → not high; 7 days of walking ≥30 min → moderate (b)
    ({"walk": (7, 129)}, 2979.9, "moderate"),
    # moderate (a): vigorous 3 days × 20 min = 8.0 × 20 × 3 = 480; 19 min → 456 and only 3 days in all → low
    ({"vig": (3, 20)}, 480, "moderate"),
    ({"vig": (3, 19)}, 456, "low"),
    # moderate (b): walking 3 days × 30 + moderate 2 days × 30 = 297 + 240 = 537 < 600, but 5 days ≥30 min → moderate
    ({"walk": (3, 30), "mod": (2, 30)}, 537, "moderate"),
    # with 29 min of walking: 287.1 + 240 = 527.1, only 2 days ≥30 min, 5 days in all but < 600 → low
    ({"walk": (3, 29), "mod": (2, 30)}, 527.1, "low"),
    # moderate (c): vigorous 2 days × 25 (400) + walking 3 days × 25 (247.5) = 647.5 ≥ 600 on 5 days → moderate
    ({"vig": (2, 25), "walk": (3, 25)}, 647.5, "moderate"),
    # the same on 4 days (walking 2 × 25 = 165, total 565) → low
    ({"vig": (2, 25), "walk": (2, 25)}, 565, "low"),
    # 960 min/day in all is still scored: 500 + 300 + 160 = 960; truncated 180/180/160:
    # 8.0 × 180 + 4.0 × 180 + 3.3 × 160 = 1440 + 720 + 528 = 2688 on 3 days in all → low
    ({"vig": (1, 500), "mod": (1, 300), "walk": (1, 160)}, 2688, "low"),
])
def test_ipaq_protocol(answers, met, category):
    met_score, category_score = ipaq(**answers)
    assert met_score.value == pytest.approx(met)
    assert met_score.observation == {"code": "CL-IPAQ-MET", "name_zh": "IPAQ 总体力活动量",
                                     "name_en": "IPAQ total physical activity", "unit": "MET-min/wk"}
    assert (category_score.value, category_score.band) == (None, category)
    assert category_score.band_label["en"]


def test_ipaq_excludes_more_than_960_minutes_a_day():
    # 500 + 300 + 161 = 961 > 960: the case is excluded (before truncation), no score and nothing missing
    met_score, category_score = ipaq(vig=(1, 500), mod=(1, 300), walk=(1, 161))
    for s in (met_score, category_score):
        assert (s.value, s.band, s.missing) == (None, None, ())
        assert "960" in s.interpretation["en"]


def test_ipaq_missing_minutes_are_named_and_hidden_minutes_ignored():
    met_score, _ = ipaq(vig=(2, None), walk=(0, 45))
    assert (met_score.value, met_score.missing) == (None, ("vig_minutes",))
    defn = pack_definition("ipaq_short")
    assert "walk_minutes" not in clean_answers(defn, {"walk_days": "0", "walk_minutes": "45"})


# --- satisfaction --------------------------------------------------------------------------------------------------

ALL_ALWAYS = {key: "4" for key in ("access_booking", "access_wait", "access_info", "comm_explain", "comm_listen",
                                   "comm_respect", "comm_time", "staff_helpful", "staff_courtesy", "coord_results",
                                   "coord_followup")}


@pytest.mark.parametrize(("answer", "band"), [("0", "detractor"), ("6", "detractor"), ("7", "passive"),
                                              ("8", "passive"), ("9", "promoter"), ("10", "promoter")])
def test_recommend_bands(answer, band):
    scores = by_key(score(pack_definition("satisfaction"), {**ALL_ALWAYS, "overall_rating": "8", "recommend": answer}))
    assert (scores["recommend"].value, scores["recommend"].band) == (int(answer), band)
    assert pack_definition("satisfaction")["scores"][-1]["alert_at_band"] == ["detractor"]


def test_satisfaction_domain_means_on_a_0_to_100_scale():
    answers = {**ALL_ALWAYS, "access_wait": "3", "staff_helpful": "1", "staff_courtesy": "2",
               "overall_rating": "9", "recommend": "9"}
    del answers["coord_followup"]
    scores = by_key(score(pack_definition("satisfaction"), answers))
    # access: mean(4, 3, 4) = 3.667 → (3.667 − 1) / 3 × 100 = 88.9 → 89
    assert scores["access"].value == 89
    assert scores["communication"].value == 100
    # staff: mean(1, 2) = 1.5 → 16.7 → 17
    assert scores["staff"].value == 17
    assert (scores["coordination"].value, scores["coordination"].missing) == (None, ("coord_followup",))
    assert scores["overall_rating"].value == 9
