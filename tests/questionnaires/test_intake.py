"""The general intake form: branching by sex and by yes/no, and its answers as health-history proposals."""
from app.questionnaires.definition import clean_answers, pack_definition, visible_questions
from app.questionnaires.scoring import history_proposals, score


def intake():
    return pack_definition("intake_general")


BASE = {"sex": "M", "has_illness": "true", "illnesses": "高血压 2015\n\n  - 2 型糖尿病\n", "has_surgery": "false",
        "surgeries": "阑尾切除", "has_allergy": True, "allergies": "青霉素：皮疹\n" + "海鲜" * 150,
        "has_family": False, "has_medication": False, "smoking": "former", "alcohol": "occasional",
        "exercise": "regular", "sleep_hours": "7.5", "diet": ["balanced", "salty"]}


def test_history_proposals_are_shaped_like_the_stored_values():
    proposals = history_proposals(intake(), BASE)
    assert proposals == [
        {"field": "history:illness", "value": "高血压 2015", "question": "illnesses"},
        {"field": "history:illness", "value": "2 型糖尿病", "question": "illnesses"},
        {"field": "history:allergy", "value": "青霉素：皮疹", "question": "allergies"},
        {"field": "history:allergy", "value": "海鲜" * 100, "question": "allergies"},  # cut to 200 characters
        {"field": "smoking", "value": "former", "question": "smoking"},
        {"field": "alcohol", "value": "occasional", "question": "alcohol"},
        {"field": "exercise", "value": "regular", "question": "exercise"},
    ]
    # surgeries were answered "no": the hidden list proposes nothing
    assert all(p["question"] != "surgeries" for p in proposals)


def test_womens_health_shows_only_for_women():
    defn = intake()
    assert "menstrual_status" not in visible_questions(defn, BASE)
    woman = {**BASE, "sex": "F", "menstrual_status": "menopause", "menopause_age": "51", "pregnant": True,
             "last_period": "2026-11-01"}
    shown = visible_questions(defn, woman)
    assert {"menstrual_status", "menopause_age"} <= set(shown)
    assert not {"pregnant", "last_period"} & set(shown)
    cleaned = clean_answers(defn, woman)
    assert cleaned["menopause_age"] == 51 and "pregnant" not in cleaned
    assert clean_answers(defn, {**BASE, "menstrual_status": "regular"}).get("menstrual_status") is None


def test_intake_has_no_scores():
    assert score(intake(), BASE).scores == ()
