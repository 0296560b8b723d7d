"""A clinic's questionnaires: the pack's instruments and the clinic's own,
each answered in published versions that never change."""
import hashlib
import json

from sqlalchemy import func, select

from app.core import audit
from app.core.errors import FieldErrors
from app.questionnaires import definition as definitions
from app.questionnaires.models import Questionnaire, QuestionnaireResponse, QuestionnaireVersion
from app.records import services as records
from tenants.db import db


def fingerprint(defn: dict) -> str:
    return hashlib.sha256(json.dumps(defn, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sync_pack() -> int:
    """Install the pack's instruments the clinic lacks, and publish a pack update of one the clinic
    has not published its own version of. Returns how many versions were published."""
    existing = {q.pack_key: q for q in db.session.scalars(select(Questionnaire).where(Questionnaire.pack_key != ""))}
    latest = _latest_versions([q.id for q in existing.values()])
    published = 0
    for defn in definitions.pack_definitions():
        for spec in defn.get("scores", []):
            if spec.get("observation"):
                score_indicator(spec["observation"])  # so tag rules and triggers can name it before any answer
        questionnaire = existing.get(defn["key"])
        if questionnaire is None:
            questionnaire = Questionnaire(key=defn["key"], kind=defn["kind"], title_zh=defn["title"]["zh"],
                                          title_en=defn["title"]["en"], pack_key=defn["key"])
            db.session.add(questionnaire)
            db.session.flush()
        current = latest.get(questionnaire.id)
        if current is not None and (current.published_by is not None or current.fingerprint == fingerprint(defn)):
            continue  # the clinic's own version, or the pack's unchanged
        _add_version(questionnaire, defn, actor_id=None)
        published += 1
    return published


def score_indicator(spec: dict) -> records.Indicator:
    """The catalogue entry a score is stored under (made on first need, in the questionnaire group)."""
    found = db.session.scalar(select(records.Indicator).where(records.Indicator.code == spec["code"]))
    if found is not None:
        return found
    indicator = records.catalogue.add_local(spec["code"], spec.get("name_zh") or spec["code"],
                                            spec.get("name_en") or spec["code"], spec.get("unit", ""),
                                            "questionnaire")
    indicator.decimals = int(spec.get("decimals", 0))
    db.session.flush()
    return indicator


def _latest_versions(questionnaire_ids: list[int]) -> dict[int, QuestionnaireVersion]:
    if not questionnaire_ids:
        return {}
    newest = (select(QuestionnaireVersion.questionnaire_id, func.max(QuestionnaireVersion.version).label("v"))
              .where(QuestionnaireVersion.questionnaire_id.in_(questionnaire_ids))
              .group_by(QuestionnaireVersion.questionnaire_id).subquery())
    rows = db.session.scalars(select(QuestionnaireVersion).join(
        newest, (newest.c.questionnaire_id == QuestionnaireVersion.questionnaire_id)
        & (newest.c.v == QuestionnaireVersion.version)))
    return {row.questionnaire_id: row for row in rows}


def _add_version(questionnaire: Questionnaire, defn: dict, *, actor_id: int | None) -> QuestionnaireVersion:
    number = questionnaire.current_version + 1
    stored = dict(defn, version=number)
    version = QuestionnaireVersion(questionnaire_id=questionnaire.id, version=number, definition=stored,
                                   fingerprint=fingerprint(defn), published_by=actor_id)
    db.session.add(version)
    questionnaire.current_version = number
    questionnaire.kind = defn["kind"]
    questionnaire.title_zh, questionnaire.title_en = defn["title"]["zh"], defn["title"]["en"]
    db.session.flush()
    return version


def publish(questionnaire: Questionnaire, defn: dict, *, actor_id: int) -> QuestionnaireVersion | None:
    """Publish an edited definition as the next version (None: nothing changed). Responses keep the
    version they answered."""
    problems = definitions.check_definition(defn)
    if problems:
        raise FieldErrors({"definition": "; ".join(problems)})
    current = current_version(questionnaire)
    if current is not None and current.fingerprint == fingerprint(defn):
        return None
    version = _add_version(questionnaire, defn, actor_id=actor_id)
    questionnaire.draft = None
    audit.record("questionnaire_published", questionnaire=questionnaire.key, version=version.version)
    return version


def all_questionnaires(*, include_archived: bool = False) -> list[Questionnaire]:
    query = select(Questionnaire).order_by(Questionnaire.kind, Questionnaire.key)
    if not include_archived:
        query = query.where(Questionnaire.archived.is_(False))
    return list(db.session.scalars(query))


def get(questionnaire_id: int) -> Questionnaire | None:
    return db.session.scalar(select(Questionnaire).where(Questionnaire.id == questionnaire_id))


def by_key(key: str) -> Questionnaire | None:
    return db.session.scalar(select(Questionnaire).where(Questionnaire.key == key))


def current_version(questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    return db.session.scalar(select(QuestionnaireVersion).where(
        QuestionnaireVersion.questionnaire_id == questionnaire.id,
        QuestionnaireVersion.version == questionnaire.current_version))


def version(version_id: int) -> QuestionnaireVersion | None:
    return db.session.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.id == version_id))


def versions(questionnaire: Questionnaire) -> list[QuestionnaireVersion]:
    return list(db.session.scalars(select(QuestionnaireVersion).where(
        QuestionnaireVersion.questionnaire_id == questionnaire.id).order_by(QuestionnaireVersion.version.desc())))


def counts(questionnaire_id: int | None = None) -> dict[int, dict[str, int]]:
    """Per questionnaire (or just the one): responses by status, in one statement."""
    query = select(QuestionnaireResponse.questionnaire_id, QuestionnaireResponse.status, func.count())
    if questionnaire_id is not None:
        query = query.where(QuestionnaireResponse.questionnaire_id == questionnaire_id)
    rows = db.session.execute(query.group_by(QuestionnaireResponse.questionnaire_id, QuestionnaireResponse.status))
    found: dict[int, dict[str, int]] = {}
    for questionnaire_id, status, n in rows:
        found.setdefault(questionnaire_id, {})[status] = n
    return found


def title(questionnaire: Questionnaire | dict, locale: str) -> str:
    if isinstance(questionnaire, dict):
        return text(questionnaire["title"], locale)
    return questionnaire.title_en if locale.startswith("en") else questionnaire.title_zh


def text(value: dict | str | None, locale: str) -> str:
    """A definition's {"zh", "en"} text in the reader's language."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    return (value.get("en") if locale.startswith("en") else value.get("zh")) or value.get("zh") or ""


def choices(locale: str) -> dict[str, str]:
    """Published questionnaires by key, for a select: {"": "—", key: title}."""
    found = {"": "—"}
    for questionnaire in all_questionnaires():
        if questionnaire.current_version:
            found[questionnaire.key] = title(questionnaire, locale)
    return found
