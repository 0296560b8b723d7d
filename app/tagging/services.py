"""What other capabilities call: evaluation after a change, tags on patients.

- ``evaluate_patient(patient_id)``: bring one patient's automatic tags up to
  date now (the caller commits); returns the rules that started or stopped
  holding.
- ``evaluate_patient_later(patient_id)``: inside the transaction that
  changes the patient's data; after it commits, an RQ job runs
  ``evaluate_patient`` (nothing is queued if the transaction rolls back).
  ``listen()`` does this for every card, history and results signal.
- ``start_evaluation(rule_ids)``: a tracked job re-evaluating rules clinic-wide.
- manual tags, the tags shown on a patient, and the list filter.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select, union, union_all

from app.core import audit, events, txn
from app.core import jobs as core_jobs
from app.patients import services as patients
from app.records import services as records
from app.tagging import conditions, jobs, rules
from app.tagging.evaluation import PatientChanges, evaluate_patient, evaluate_rule, evaluate_rules, indicators_by_code  # noqa: F401
from app.tagging.models import ManualTag, PatientTag, Tag, TagRule
from app.tagging.signals import tags_changed  # noqa: F401  (others listen)
from tenants.context import require_tenant_id
from tenants.db import db

log = logging.getLogger(__name__)
TAG_COLOURS = {"teal": "#d3efe9", "blue": "#dce8fb", "orange": "#fde7cc", "red": "#fbdada", "purple": "#ebe0f7",
               "grey": "#e3e9ea"}


def tag_class(tag) -> str:
    """The CSS class of a tag's colour (static/css/app.css: no inline styles under the CSP)."""
    return f"tag-{tag.colour}" if tag.colour in TAG_COLOURS else "tag-grey"


class TagError(ValueError):
    pass


# ------------------------------------------------- evaluation after commit

def evaluate_patient_later(patient_id: int) -> None:
    """Queue ``evaluate_patient`` for after the current transaction commits (once per patient)."""
    tenant_id = require_tenant_id()
    txn.after_commit(jobs.enqueue_patient, tenant_id, int(patient_id), key=("tagging:evaluate", tenant_id, patient_id))


def _retag(_tenant_id: int, *, patient_id: int | None = None, patient_ids: list[int] | None = None,
           fields: list[str] | None = None, **_) -> None:
    """A card, its history or its results changed: its rules may hold or stop holding."""
    if fields is not None and not {"sex", "birth_date"} & set(fields):
        return  # rules read sex and age, not names, numbers or assignments
    for one in patient_ids if patient_ids else [patient_id]:
        if one is None:  # each of these signals names its patient or patients
            raise ValueError("a change signal that names no patient")
        evaluate_patient_later(one)


def listen() -> None:
    for signal in (patients.card_opened, patients.card_changed, patients.history_changed, records.results_stored):
        events.connect(signal, _retag)


def start_evaluation(rule_ids: list[int] | None = None, *, requested_by: int | None = None):
    """Commit, then re-evaluate rules clinic-wide in a tracked background job."""
    return core_jobs.start("tag_rules", "app.tagging.jobs.evaluate_rules_job", requested_by=requested_by,
                           rule_ids=list(rule_ids or []), locale=str(get_locale() or "zh_CN"))


# ------------------------------------------------------------------- tags

def tag_label(tag: Tag) -> str:
    if tag.name_en and not str(get_locale() or "zh").startswith("zh"):
        return tag.name_en
    return tag.name


def all_tags() -> list[Tag]:
    return list(db.session.scalars(select(Tag).order_by(Tag.name)))


def get_tag(tag_id: int) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.id == tag_id))


def add_manual(patient_id: int, name: str, *, actor_id: int | None = None, note: str = "") -> Tag:
    """Put a tag (made if new) on a patient by hand. The caller commits."""
    name = " ".join((name or "").split())
    if not name:
        raise TagError(_("Please name the tag."))
    if len(name) > 40 or any(ch in name for ch in "<>"):
        raise TagError(_("A tag name has at most 40 characters and no < or >."))
    tag = rules.tag_named(name)
    if tag is None:  # made when missing, and the name is not empty
        raise TagError(_("Please name the tag."))
    exists = db.session.scalar(select(ManualTag).where(ManualTag.patient_id == patient_id, ManualTag.tag_id == tag.id))
    if exists is None:
        db.session.add(ManualTag(patient_id=patient_id, tag_id=tag.id, applied_by=actor_id, note=note[:200]))
        _audit(patient_id, added=tag.name)
        events.send(tags_changed, patient_ids=[patient_id], tag_ids=[tag.id])
    return tag


def remove_manual(patient_id: int, tag_id: int) -> bool:
    row = db.session.scalar(select(ManualTag).where(ManualTag.patient_id == patient_id, ManualTag.tag_id == tag_id))
    if row is None:
        return False
    tag = get_tag(tag_id)
    db.session.delete(row)
    _audit(patient_id, removed=tag.name if tag else str(tag_id))
    events.send(tags_changed, patient_ids=[patient_id], tag_ids=[tag_id])
    return True


def _audit(patient_id: int, **detail) -> None:
    audit.record("history_edited", patient_id=patient_id, section="tags", **detail)


@dataclass
class Reason:
    rule: TagRule
    applied_at: object
    lines: list[str]


@dataclass
class ShownTag:
    tag: Tag
    manual: ManualTag | None = None
    reasons: list[Reason] = field(default_factory=list)


def patient_tags(patient_id: int) -> list[ShownTag]:
    """A patient's tags, each with the rules that applied it and why, and
    whether a person applied it too."""
    shown: dict[int, ShownTag] = {}
    tags = {t.id: t for t in all_tags()}
    indicators = None
    rows = db.session.execute(select(PatientTag, TagRule).join(
        TagRule, (TagRule.id == PatientTag.rule_id) & (TagRule.tenant_id == PatientTag.tenant_id))
        .where(PatientTag.patient_id == patient_id).order_by(PatientTag.applied_at))
    for automatic, rule in rows:
        if automatic.tag_id not in tags:
            continue
        indicators = indicators if indicators is not None else indicators_by_code()
        entry = shown.setdefault(automatic.tag_id, ShownTag(tags[automatic.tag_id]))
        entry.reasons.append(Reason(rule, automatic.applied_at,
                                    conditions.explain(rule.condition, automatic.evidence, indicators)))
    for manual in db.session.scalars(select(ManualTag).where(ManualTag.patient_id == patient_id)):
        if manual.tag_id in tags:
            shown.setdefault(manual.tag_id, ShownTag(tags[manual.tag_id])).manual = manual
    return sorted(shown.values(), key=lambda s: s.tag.name)


def tags_of_patients(patient_ids: list[int]) -> dict[int, list[Tag]]:
    """Each listed patient's tags (automatic and manual), for a list page."""
    if not patient_ids:
        return {}
    tenant_id = require_tenant_id()
    pairs = union(
        select(PatientTag.patient_id, PatientTag.tag_id).where(PatientTag.tenant_id == tenant_id,
                                                              PatientTag.patient_id.in_(patient_ids)),
        select(ManualTag.patient_id, ManualTag.tag_id).where(ManualTag.tenant_id == tenant_id,
                                                            ManualTag.patient_id.in_(patient_ids)))
    tags = {t.id: t for t in all_tags()}
    found: dict[int, list[Tag]] = {}
    for patient_id, tag_id in db.session.execute(pairs):
        if tag_id in tags:
            found.setdefault(patient_id, []).append(tags[tag_id])
    return {k: sorted(v, key=lambda t: t.name) for k, v in found.items()}


def tag_names(tag_ids) -> set[str]:
    return set(db.session.scalars(select(Tag.name).where(Tag.id.in_(list(tag_ids)))))


def holders(tag_name: str, patient_ids=None) -> dict[int, datetime]:
    """Who carries the tag (by a rule or by hand), and since when; only
    these patients if ``patient_ids`` is given."""
    tag_id = db.session.scalar(select(Tag.id).where(Tag.name == tag_name))
    if tag_id is None:
        return {}
    parts = [select(PatientTag.patient_id, PatientTag.applied_at).where(PatientTag.tag_id == tag_id),
             select(ManualTag.patient_id, ManualTag.applied_at).where(ManualTag.tag_id == tag_id)]
    if patient_ids is not None:
        parts = [p.where(p.selected_columns[0].in_(patient_ids)) for p in parts]
    since: dict[int, datetime] = {}
    for patient_id, applied_at in db.session.execute(union_all(*parts)):
        if patient_id not in since or applied_at < since[patient_id]:
            since[patient_id] = applied_at
    return since


def having_tag(patient_id_column, tag_id: int):
    """A WHERE clause: the patient carries the tag (by a rule or by hand)."""
    tenant_id = require_tenant_id()
    return patient_id_column.in_(union(
        select(PatientTag.patient_id).where(PatientTag.tenant_id == tenant_id, PatientTag.tag_id == tag_id),
        select(ManualTag.patient_id).where(ManualTag.tenant_id == tenant_id, ManualTag.tag_id == tag_id)))

