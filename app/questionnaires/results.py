"""What staff read: a patient's responses with their scores, bands and the
change since the one before; a questionnaire's counts and score distribution."""
from dataclasses import dataclass, field

from sqlalchemy import select

from app.questionnaires import library
from app.questionnaires.models import Questionnaire, QuestionnaireResponse, QuestionnaireVersion
from tenants.db import db


@dataclass
class ShownScore:
    key: str
    label: dict
    value: float | None
    band: str | None
    band_label: dict
    interpretation: dict
    change: float | None = None


@dataclass
class Row:
    response: QuestionnaireResponse
    questionnaire: Questionnaire
    scores: list[ShownScore] = field(default_factory=list)


def labelled_scores(defn: dict, stored: list[dict], earlier: list[dict] | None = None) -> list[ShownScore]:
    specs = {s["key"]: s for s in defn.get("scores", [])}
    before = {s["key"]: s.get("value") for s in earlier or []}
    shown = []
    for score in stored:
        spec = specs.get(score["key"], {})
        band: dict = next((b for b in spec.get("bands", []) if b.get("key") == score.get("band")), {})
        value, previous = score.get("value"), before.get(score["key"])
        shown.append(ShownScore(score["key"], spec.get("label", {}), value, score.get("band"), band.get("label", {}),
                                band.get("interpretation", {}),
                                None if value is None or previous is None else round(value - previous, 1)))
    return shown


def patient_rows(patient_id: int) -> list[Row]:
    """Newest first; each submitted response's change is against the patient's previous submitted
    response to the same questionnaire. Two statements whatever the count."""
    found = db.session.execute(
        select(QuestionnaireResponse, QuestionnaireVersion.definition, Questionnaire)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireResponse.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireResponse.questionnaire_id)
        .where(QuestionnaireResponse.patient_id == patient_id, QuestionnaireResponse.status != "cancelled")
        .order_by(QuestionnaireResponse.submitted_at.asc().nulls_last(), QuestionnaireResponse.requested_at.asc())
    ).all()
    last: dict[int, list[dict]] = {}
    rows = []
    for response, defn, questionnaire in found:
        row = Row(response, questionnaire)
        if response.status == "submitted":
            row.scores = labelled_scores(defn, response.scores, last.get(questionnaire.id))
            last[questionnaire.id] = response.scores
        rows.append(row)
    rows.sort(key=lambda r: r.response.submitted_at or r.response.requested_at, reverse=True)
    return rows


@dataclass
class Summary:
    counts: dict[str, int]
    distribution: list[tuple[str, dict, list[tuple[dict, int]]]]  # (score key, label, [(band label, count)])


def summary(questionnaire: Questionnaire) -> Summary:
    counts = library.counts(questionnaire.id).get(questionnaire.id, {})
    version = library.current_version(questionnaire)
    distribution: list[tuple[str, dict, list[tuple[dict, int]]]] = []
    if version is None:
        return Summary(counts, distribution)
    stored = db.session.scalars(select(QuestionnaireResponse.scores).where(
        QuestionnaireResponse.questionnaire_id == questionnaire.id, QuestionnaireResponse.status == "submitted"))
    tally: dict[tuple[str, str], int] = {}
    for scores in stored:
        for score in scores or []:
            if score.get("band"):
                tally[(score["key"], score["band"])] = tally.get((score["key"], score["band"]), 0) + 1
    for spec in version.definition.get("scores", []):
        bands = [(b.get("label", {}), tally.get((spec["key"], b["key"]), 0)) for b in spec.get("bands", [])]
        if bands:
            distribution.append((spec["key"], spec.get("label", {}), bands))
    return Summary(counts, distribution)
