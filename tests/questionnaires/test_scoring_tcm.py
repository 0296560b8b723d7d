"""The TCM constitution questionnaire (ZYYXH/T157-2009): converted scores worked by hand, the yes/tendency/no
edges of the biased types and the balanced-type rule."""
import pytest

from app.questionnaires.definition import iter_questions, pack_definition, visible_questions
from app.questionnaires.scoring import band_for, score, tcm_balanced

TYPES = ("yang_deficiency", "yin_deficiency", "qi_deficiency", "phlegm_dampness", "damp_heat", "blood_stasis",
         "inherited_special", "qi_stagnation", "balanced")
BALANCED_POSITIVE = ("ping1", "ping6")


def defn():
    return pack_definition("tcm_constitution")


def healthy(sex="M"):
    """Every symptom "never" (1) and the balanced type's two positive items "always" (5)."""
    answers = {q["key"]: "1" for _, q in iter_questions(defn()) if q["key"] != "sex"}
    answers.update({key: "5" for key in BALANCED_POSITIVE}, sex=sex)
    return answers


def scores(answers):
    return {s.key: s for s in score(defn(), answers).scores}


def test_sixty_items_over_nine_types():
    d = defn()
    sdefs = {s["key"]: s for s in d["scores"]}
    assert tuple(sdefs) == TYPES
    assert {k: len(s["items"]) for k, s in sdefs.items()} == {
        "yang_deficiency": 7, "yin_deficiency": 8, "qi_deficiency": 8, "phlegm_dampness": 8,
        "damp_heat": 7,  # 5 + the women's and the men's sixth item; each person answers 6
        "blood_stasis": 7, "inherited_special": 7, "qi_stagnation": 7, "balanced": 8}
    for sex in ("M", "F"):
        shown = visible_questions(d, {"sex": sex})
        assert len(shown) == 1 + 60  # the sex question, then 60 items
    assert sdefs["balanced"]["reverse"] == {"items": ["qi1", "qi7", "yuq1", "yang4", "ping7", "yu6"],
                                            "max_plus_min": 6}


def test_a_converted_score_by_hand():
    # qi deficiency, 8 items: 3 + 2 + 2 + 1 + 3 + 2 + 2 + 1 = 16; (16 − 8) / (4 × 8) × 100 = 25.0 → no
    answers = healthy() | {"qi1": "3", "qi2": "2", "qi3": "2", "qi4": "1", "yang5": "3", "qi6": "2", "qi7": "2",
                           "qi8": "1"}
    qi = scores(answers)["qi_deficiency"]
    assert (qi.value, qi.band) == (25.0, "no")
    assert qi.observation["code"] == "CL-TCM-QIXU"
    # the balanced type: the two positive items "always" (5 each) and its six reverse items "never" (6 − 1 = 5 each)
    # make 40; (40 − 8) / 32 × 100 = 100
    assert scores(healthy())["balanced"].value == 100.0


def test_damp_heat_counts_only_the_sixth_item_for_the_patients_sex():
    # a man: 5 items at 2 plus the men's item at 2 = 12 over n = 6: (12 − 6) / 24 × 100 = 25.0; the women's
    # item, answered 5 though hidden, is dropped
    answers = healthy("M") | {f"shi{i}": "2" for i in range(1, 6)} | {"shi6m": "2", "shi6f": "5"}
    assert scores(answers)["damp_heat"].value == 25.0
    woman = healthy("F") | {f"shi{i}": "2" for i in range(1, 6)} | {"shi6f": "5"}
    woman.pop("shi6m")
    # (2×5 + 5 − 6) / 24 × 100 = 37.5 → tendency
    assert (scores(woman)["damp_heat"].value, scores(woman)["damp_heat"].band) == (37.5, "tendency")


@pytest.mark.parametrize(("value", "band"), [(0, "no"), (29.9, "no"), (30, "tendency"), (39, "tendency"),
                                             (39.9, "tendency"), (40, "yes"), (100, "yes")])
def test_biased_type_edges(value, band):
    sdef = next(s for s in defn()["scores"] if s["key"] == "qi_stagnation")
    assert band_for(sdef, value)["key"] == band


@pytest.mark.parametrize(("raw", "value", "band"), [
    # qi stagnation has 7 items: (raw − 7) / 28 × 100
    (15, 28.6, "no"),        # 8/28 = 28.57
    (16, 32.1, "tendency"),  # 9/28 = 32.14
    (18, 39.3, "tendency"),  # 11/28 = 39.29
    (19, 42.9, "yes"),       # 12/28 = 42.86
])
def test_biased_type_edges_from_answers(raw, value, band):
    answers = healthy()
    items = ["yuq1", "yuq2", "yuq3", "yuq4", "yuq5", "yuq6", "yuq7"]
    extra = raw - 7
    for key in items[1:]:  # leave yuq1 (a balanced-type item) at 1
        step = min(4, extra)
        answers[key] = str(1 + step)
        extra -= step
    assert extra == 0
    result = scores(answers)["qi_stagnation"]
    assert (result.value, result.band) == (value, band)


def test_the_balanced_type_rule():
    # the standard's own examples: balanced 75 with qi deficiency 56 → not balanced; balanced 75 with
    # phlegm-dampness 32 and the rest below 30 → basically balanced
    assert tcm_balanced(75, [56, 27, 25, 12, 15, 20, 18, 10]) == "no"
    assert tcm_balanced(75, [16, 27, 25, 32, 25, 10, 18, 10]) == "basically_yes"
    assert tcm_balanced(60, [29.9] * 8) == "yes"
    assert tcm_balanced(60, [30] + [0] * 7) == "basically_yes"
    assert tcm_balanced(60, [39.9] + [0] * 7) == "basically_yes"
    assert tcm_balanced(60, [40] + [0] * 7) == "no"
    assert tcm_balanced(59.9, [0] * 8) == "no"
    assert tcm_balanced(80, [None] + [0] * 7) is None


def test_balanced_yes_basically_and_no_from_answers():
    assert scores(healthy())["balanced"].band == "yes"
    # qi deficiency to 31.25 (tendency): qi2, qi3, qi4, yang5 at 3, qi6, qi8 at 2 → raw 18, (18 − 8)/32 × 100
    tendency = healthy() | {"qi2": "3", "qi3": "3", "qi4": "3", "yang5": "3", "qi6": "2", "qi8": "2"}
    result = scores(tendency)
    assert (result["qi_deficiency"].value, result["qi_deficiency"].band) == (31.3, "tendency")  # 31.25, rounded half up
    assert (result["balanced"].value, result["balanced"].band) == (100.0, "basically_yes")
    assert result["balanced"].band_label["zh"] == "基本是平和质"
    # qi deficiency to 40.625 (yes): raw 21 → the balanced type is "no" although it scores 100
    yes = tendency | {"qi2": "4", "qi6": "3", "qi8": "3"}
    result = scores(yes)
    assert (result["qi_deficiency"].value, result["qi_deficiency"].band) == (40.6, "yes")
    assert result["balanced"].band == "no"
    # the balanced type itself below 60: ping1 1, ping6 1, ping7 5 (→ 1), qi1 2 (→ 4), the rest reversed to 5:
    # 1 + 4 + 5 + 5 + 5 + 1 + 1 + 5 = 27; (27 − 8)/32 × 100 = 59.375 → no, whatever the others
    low = healthy() | {"ping1": "1", "ping6": "1", "ping7": "5", "qi1": "2"}
    result = scores(low)
    assert result["balanced"].value == 59.4
    assert result["balanced"].band == "no"
    assert all(result[k].band == "no" for k in TYPES[:-1])


def test_missing_items_name_themselves_and_hold_the_balanced_rule():
    answers = healthy()
    del answers["qi3"]
    result = scores(answers)
    assert (result["qi_deficiency"].value, result["qi_deficiency"].missing) == (None, ("qi3",))
    assert result["balanced"].value == 100.0
    assert (result["balanced"].band, result["balanced"].missing) == (None, ("qi3",))
