"""PHQ-9 and GAD-7 against hand-worked totals at every band edge."""
import pytest

from app.questionnaires.definition import pack_definition
from app.questionnaires.scoring import score


def answers_totalling(n_items: int, total: int, *, last: int | None = None) -> dict:
    """Spread a total over the items, 3s first (item n_items gets `last` when given)."""
    answers = {}
    remaining = total - (last or 0)
    for i in range(1, n_items + 1):
        if last is not None and i == n_items:
            answers[f"q{i}"] = str(last)
            continue
        answers[f"q{i}"] = str(min(3, remaining))
        remaining -= min(3, remaining)
    assert remaining == 0
    return answers


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"), (27, "severe"),
])
def test_phq9_band_edges(total, band):
    # item 9 stays 0 up to 24; 27 needs every item at 3, item 9 included (and so the flag)
    answers = answers_totalling(9, total, last=0 if total <= 24 else 3)
    result = score(pack_definition("phq9"), answers)
    (total_score,) = result.scores
    assert (total_score.value, total_score.band) == (total, band)
    assert total_score.observation["code"] == "44261-6"
    assert total_score.band_label["zh"] and total_score.interpretation["en"]
    assert [f.key for f in result.flags] == ([] if total <= 24 else ["self_harm"])


def test_phq9_item9_flag_whatever_the_total():
    # every item 0 except item 9 = 1: total 1 (minimal) and still the critical flag
    answers = answers_totalling(9, 1, last=1)
    result = score(pack_definition("phq9"), answers)
    assert (result.scores[0].value, result.scores[0].band) == (1, "minimal")
    assert [(f.key, f.level) for f in result.flags] == [("self_harm", "critical")]
    answers["q9"] = "3"
    assert [f.key for f in score(pack_definition("phq9"), answers).flags] == ["self_harm"]


def test_phq9_missing_items_are_named():
    answers = answers_totalling(9, 12, last=0)
    del answers["q2"], answers["q7"]
    (total,) = score(pack_definition("phq9"), answers).scores
    assert (total.value, total.band, total.missing) == (None, None, ("q2", "q7"))
    assert total.band_label == {} and total.interpretation == {}


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
])
def test_gad7_band_edges(total, band):
    (total_score,) = score(pack_definition("gad7"), answers_totalling(7, total)).scores
    assert (total_score.value, total_score.band) == (total, band)
    assert total_score.observation["code"] == "70274-6"


def test_gad7_alert_bands_start_at_ten():
    sdef = pack_definition("gad7")["scores"][0]
    assert sdef["alert_at_band"] == ["moderate", "severe"]
