"""The definition format: the structural check, branching, cleaning and validation (pure, no database)."""
import copy

import pytest
from flask import Flask
from flask_babel import Babel

from app.questionnaires import definition as qdef
from app.questionnaires import definition_check, pack
from app.questionnaires.definition import (
    check_definition,
    clean_answers,
    iter_questions,
    pack_definition,
    pack_definitions,
    validate_answers,
    visible_questions,
)
from tests.questionnaires.helpers import choice, defn, t

PACK_KEYS = {"phq9", "gad7", "findrisc", "ipaq_short", "satisfaction", "tcm_constitution", "intake_general"}


@pytest.fixture(scope="module", autouse=True)
def babel_app():
    """lazy_gettext needs an app context with Babel to render its messages."""
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield


def test_every_pack_definition_passes_the_check():
    defs = pack_definitions()
    assert {d["key"] for d in defs} >= PACK_KEYS
    assert [d["key"] for d in defs] == sorted(d["key"] for d in defs)
    for d in defs:
        assert check_definition(d) == [], d["key"]
        assert d["source"].strip()
        for _section, q in iter_questions(d):
            assert set(q["text"]) == {"zh", "en"}
    assert pack_definition("phq9")["key"] == "phq9"
    assert pack_definition("nope") is None


def test_pack_lifestyle_values_match_the_patient_model():
    from app.patients import models

    assert definition_check.LIFESTYLE_FIELDS == {"smoking": models.SMOKING, "alcohol": models.ALCOHOL,
                                     "exercise": models.EXERCISE}
    assert definition_check.HISTORY_KINDS == models.HISTORY_KINDS


def good():
    return defn(
        choice("a"), choice("b", show_if={"question": "a", "op": "gte", "value": 2}),
        scores=[{"key": "total", "label": t("总分"), "method": "sum", "items": ["a", "b"],
                 "bands": [{"key": "low", "min": 0, "max": 2, "label": t("低")},
                           {"key": "high", "min": 3, "max": 6, "label": t("高")}]}],
    )


def test_a_good_definition_has_no_problems():
    assert check_definition(good()) == []


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["sections"][0]["questions"].append(choice("a")), "question 'a' in section 'main': duplicate"),
    (lambda d: d["sections"].append(copy.deepcopy(d["sections"][0]) | {"questions": [choice("z")]}),
     "section 'main': duplicate section key"),
    (lambda d: d["sections"][0]["questions"][0].update(show_if={"question": "b", "op": "eq", "value": "1"}),
     "question 'a' in section 'main' show_if: the condition names question 'b', which does not come before it"),
    (lambda d: d["sections"][0]["questions"][1].update(show_if={"question": "zz", "op": "eq", "value": "1"}),
     "unknown question 'zz'"),
    (lambda d: d["sections"][0]["questions"][1].update(show_if={"question": "a", "op": "like", "value": "1"}),
     "unknown operator 'like'"),
    (lambda d: d["scores"][0]["bands"][1].update(min=4), "gap between bands 'low' and 'high'"),
    (lambda d: d["scores"][0]["bands"][1].update(min=2), "bands 'low' and 'high' overlap"),
    (lambda d: d["scores"][0]["bands"][1].update(max=5), "do not cover every possible value (0 to 6)"),
    (lambda d: d["sections"][0]["questions"][0].update(type="slider"), "question 'a' in section 'main': unknown type"),
    (lambda d: d["scores"][0]["items"].append("ghost"), "score 'total': names an unknown item 'ghost'"),
    (lambda d: d["scores"][0].update(method="median"), "score 'total': unknown method 'median'"),
    (lambda d: d["scores"][0].update(alert_at_band=["mid"]), "alert_at_band names an unknown band 'mid'"),
    (lambda d: d["sections"][0]["questions"][0]["text"].pop("en"), "the text needs both zh and en"),
    (lambda d: d.update(key="PHQ-9"), "the key must be lower-case ascii"),
    (lambda d: d["sections"][0]["questions"].append(
        {"key": "smoke", "type": "single", "text": t("吸烟"), "history_field": "smoking",
         "options": [{"code": "daily", "label": t("每天"), "score": 1}]}), "'daily' is not a smoking value"),
    (lambda d: d.update(flags=[{"key": "f", "level": "urgent", "message": t("x"),
                                "when": {"question": "a", "op": "gt", "value": 0}}]), "flag 'f': the level"),
])
def test_check_definition_catches(change, expected):
    d = good()
    change(d)
    problems = check_definition(d)
    assert any(expected in p for p in problems), problems


def test_band_check_for_scores_that_are_not_whole_numbers():
    d = defn(choice("a", (1, 2, 3, 4, 5)), scores=[{
        "key": "c", "label": t("c"), "method": "converted", "items": ["a"],
        "bands": [{"key": "no", "min": 0, "max": 29, "label": t("否")},
                  {"key": "yes", "min": 30, "max": 100, "label": t("是")}]}])
    assert any("not a whole number" in p for p in check_definition(d))
    d["scores"][0]["bands"][0] = {"key": "no", "min": 0, "lt": 30, "label": t("否")}
    assert check_definition(d) == []


def branching():
    return defn(sections=[
        {"key": "about", "title": t("关于"), "show_if": None, "questions": [
            choice("sex", (0, 1), qtype="single") | {"options": [
                {"code": "M", "label": t("男"), "score": 0}, {"code": "F", "label": t("女"), "score": 0}]},
            {"key": "smoker", "type": "yesno", "text": t("吸烟吗"), "required": True},
            {"key": "cigs", "type": "number", "text": t("每天几支"), "required": True, "integer": True,
             "min": 1, "max": 100, "unit": "支/天", "show_if": {"question": "smoker", "op": "eq", "value": True}},
        ]},
        {"key": "women", "title": t("女性"), "show_if": {"question": "sex", "op": "eq", "value": "F"}, "questions": [
            {"key": "lmp", "type": "date", "text": t("末次月经"), "required": True},
            {"key": "pregnant", "type": "yesno", "text": t("怀孕"), "required": False,
             "show_if": {"question": "lmp", "op": "answered", "value": True}},
        ]},
    ])


def test_branching_hides_questions_and_sections_and_drops_their_answers():
    d = branching()
    assert check_definition(d) == []
    assert visible_questions(d, {}) == ["sex", "smoker"]
    assert visible_questions(d, {"sex": "F", "smoker": False}) == ["sex", "smoker", "lmp"]
    assert visible_questions(d, {"sex": "F", "smoker": True, "lmp": "2026-11-20"}) == [
        "sex", "smoker", "cigs", "lmp", "pregnant"]
    answers = {"sex": "M", "smoker": "false", "cigs": "20", "lmp": "2026-11-20", "pregnant": True, "ghost": 1}
    assert clean_answers(d, answers) == {"sex": "M", "smoker": False}
    assert clean_answers(d, {"sex": "F", "smoker": "true", "cigs": "20", "lmp": "2026-11-20"}) == {
        "sex": "F", "smoker": True, "cigs": 20, "lmp": "2026-11-20"}
    # a hidden question's answer cannot drive a later condition
    assert "pregnant" not in visible_questions(d, {"sex": "M", "lmp": "2026-11-20"})


def test_conditions_on_choice_scores_rows_and_any_all():
    d = defn(
        choice("a"),
        {"key": "m", "type": "matrix", "text": t("m"), "required": True,
         "rows": [{"key": "r1", "text": t("r1")}, {"key": "r2", "text": t("r2")}],
         "options": [{"code": "x", "label": t("x"), "score": 0}, {"code": "y", "label": t("y"), "score": 5}]},
        choice("b", show_if={"any": [{"question": "a", "op": "in", "value": ["3"]},
                                     {"all": [{"question": "m.r1", "op": "gt", "value": 1},
                                              {"question": "a", "op": "ne", "value": "0"}]}]}),
    )
    assert check_definition(d) == []
    assert "b" in visible_questions(d, {"a": "3"})
    assert "b" not in visible_questions(d, {"a": "1", "m": {"r1": "x"}})
    assert "b" in visible_questions(d, {"a": "1", "m": {"r1": "y"}})
    assert "b" not in visible_questions(d, {"a": "0", "m": {"r1": "y"}})


def every_type():
    return defn(
        choice("single"),
        choice("likert", qtype="likert"),
        choice("multi", qtype="multiple"),
        {"key": "num", "type": "number", "text": t("n"), "required": True, "min": 0, "max": 960, "integer": True},
        {"key": "when", "type": "date", "text": t("d"), "required": True},
        {"key": "name", "type": "text", "text": t("t"), "required": True, "max_length": 5,
         "pattern": "[A-Z]+", "pattern_message": t("只用大写字母", "Capital letters only")},
        {"key": "notes", "type": "textarea", "text": t("ta"), "required": False, "max_length": 10},
        {"key": "yes", "type": "yesno", "text": t("yn"), "required": True},
        {"key": "grid", "type": "matrix", "text": t("m"), "required": True,
         "rows": [{"key": "r1", "text": t("r1")}, {"key": "r2", "text": t("r2")}],
         "options": [{"code": "x", "label": t("x"), "score": 0}, {"code": "y", "label": t("y"), "score": 1}]},
    )


def test_validation_messages_for_each_type():
    d = every_type()
    assert check_definition(d) == []
    fine = {"single": "1", "likert": 2, "multi": ["0", "3"], "num": "30", "when": "2026-02-28", "name": "AB",
            "notes": "ok", "yes": "no", "grid": {"r1": "x", "r2": "y"}}
    assert validate_answers(d, fine) == {}
    bad = {"single": "9", "likert": "x", "multi": ["0", "7"], "num": "12.5", "when": "2026-02-30", "name": "abc",
           "notes": "x" * 11, "yes": "maybe", "grid": {"r1": "z"}}
    errors = {k: str(v) for k, v in validate_answers(d, bad).items()}
    assert errors == {
        "single": "Choose one of the options offered.",
        "likert": "Choose one of the options offered.",
        "multi": "Choose only among the options offered.",
        "num": "Enter a whole number.",
        "when": "This date does not exist.",
        "name": str({"zh": "只用大写字母", "en": "Capital letters only"}),
        "notes": "Use at most 10 characters.",
        "yes": "Answer yes or no.",
        "grid": "Choose one of the options offered in each row.",
    }
    more = {k: str(v) for k, v in validate_answers(d, {**fine, "num": "1000", "when": "28/02/2026", "name": "ABCDEF",
                                                        "grid": {"r1": "x"}}).items()}
    assert more == {"num": "Enter a number from 0 to 960.", "when": "Enter a date as YYYY-MM-DD.",
                    "name": "Use at most 5 characters.", "grid": "Choose one answer in each row."}
    assert {k: str(v) for k, v in validate_answers(d, {**fine, "num": "abc"}).items()} == {"num": "Enter a number."}


def test_validation_messages_translate():
    from pathlib import Path

    app = Flask("zh")
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_Hans_CN"
    Babel(app, default_translation_directories=str(Path(qdef.__file__).resolve().parents[1] / "translations"))
    with app.test_request_context():
        errors = validate_answers(every_type(), {"num": "1000"})
        assert str(errors["num"]) == "请输入 0 到 960 之间的数字。"
        assert str(errors["single"]) == "请回答此题。"



def test_structural_problems_read_in_the_language_in_force_and_pack_errors_in_english(tmp_path, monkeypatch):
    """The builder's problems follow the page's language; a broken pack file (read at import, in the CLI or
    a job, where the app's default is Chinese) is named in English for whoever maintains the pack."""
    import json
    from pathlib import Path

    broken = good()
    broken["scores"][0]["bands"][1]["min"] = 4
    app = Flask("zh")
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_Hans_CN"
    Babel(app, default_translation_directories=str(Path(qdef.__file__).resolve().parents[1] / "translations"))
    with app.test_request_context():
        assert "评分 'total'：分级 'low' 与 'high' 之间有空档" in check_definition(broken)
        problem = next(p for p in qdef.definition_problems(broken) if p.target == "score:total")
        assert problem.field == "bands"
    assert "score 'total': gap between bands 'low' and 'high'" in check_definition(broken)  # English app around
    (tmp_path / "mine.json").write_text(json.dumps(broken | {"key": "mine"}), encoding="utf-8")
    monkeypatch.setattr(pack, "PACK_DIR", tmp_path)
    pack._load_pack.cache_clear()
    try:
        with app.app_context(), pytest.raises(ValueError, match=r"^mine\.json: .*score 'total': gap between bands"):
            pack_definitions()
    finally:
        monkeypatch.undo()
        pack._load_pack.cache_clear()

def test_required_applies_to_shown_questions_and_not_when_partial():
    d = branching()
    errors = validate_answers(d, {"sex": "M"})
    assert set(errors) == {"smoker"}
    assert str(errors["smoker"]) == "Please answer this question."
    assert set(validate_answers(d, {"sex": "F", "smoker": True})) == {"cigs", "lmp"}
    assert validate_answers(d, {"sex": "F"}, partial=True) == {}
    # a hidden question is not validated even with a bad answer
    assert validate_answers(d, {"sex": "M", "smoker": False, "cigs": "lots"}) == {}
