"""Tag rules: the default pack, checking and saving a rule, previews."""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from app.core import audit
from app.core.errors import FieldErrors
from app.patients import services as patients
from app.tagging import conditions, evaluation
from app.tagging.models import PatientTag, Tag, TagRule
from tenants import packs
from tenants.context import require_tenant_id
from tenants.db import db

CONFIRM_SHARE = 0.9  # a rule matching this share of patients or more asks before it is saved


class RuleInvalid(FieldErrors):
    """``errors``: top-level fields; ``leaf_errors``: per leaf position, per field."""

    def __init__(self, errors: dict[str, str], leaf_errors: dict[int, dict[str, str]] | None = None):
        super().__init__(errors)
        self.leaf_errors = leaf_errors or {}


@dataclass
class RuleDraft:
    name: str
    tag: str
    condition: dict
    active: bool = True
    source: str = ""


@dataclass
class Preview:
    count: int
    total: int
    sample: list = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def needs_confirmation(self) -> bool:
        return self.total > 0 and self.share >= CONFIRM_SHARE


# -------------------------------------------------------------------- tags

def tag_named(name: str, *, create: bool = True, name_en: str = "", colour: str = "teal") -> Tag | None:
    name = " ".join((name or "").split())
    tag = db.session.scalar(select(Tag).where(Tag.name == name))
    if tag is None and create and name:
        tag = Tag(name=name[:40], name_en=name_en[:60], colour=colour)
        db.session.add(tag)
        db.session.flush()
    return tag


# -------------------------------------------------------------------- pack

def install_pack() -> int:
    """Add the pack's rules this clinic does not have yet (by pack key).
    Tags are not evaluated here: a new clinic has no patients."""
    have = set(db.session.scalars(select(TagRule.pack_key).where(TagRule.pack_key != "")))
    added = 0
    for spec in packs.load("tag_rules")["rules"]:
        if spec["key"] in have:
            continue
        tag = tag_named(spec["tag"], name_en=spec.get("tag_en", ""), colour=spec.get("colour", "teal"))
        if tag is None:  # made when missing; only an empty name makes none
            raise ValueError(f"pack rule {spec['key']} names no tag")
        db.session.add(TagRule(name=spec["name"], tag_id=tag.id, condition=spec["condition"],
                               pack_key=spec["key"], source=spec["source"], active=True))
        added += 1
    db.session.flush()
    return added


# ---------------------------------------------------------------- checking

def check(draft: RuleDraft, indicators: dict | None = None) -> dict:
    """The clean condition tree, or RuleInvalid naming every problem."""
    errors: dict[str, str] = {}
    draft.name = " ".join((draft.name or "").split())
    draft.tag = " ".join((draft.tag or "").split())
    if not draft.name:
        errors["name"] = _("Please name the rule.")
    elif len(draft.name) > 80:
        errors["name"] = _("At most 80 characters.")
    if not draft.tag:
        errors["tag"] = _("Please name the tag the rule applies.")
    elif len(draft.tag) > 40:
        errors["tag"] = _("At most 40 characters.")
    if any(ch in draft.name + draft.tag for ch in "<>"):
        errors.setdefault("name", _("Please leave out < and >."))
    count = len(conditions.leaves(draft.condition)) if draft.condition.get("items") is not None else 0
    if count == 0:
        errors["condition"] = _("Please add at least one condition.")
    elif count > conditions.MAX_LEAVES:
        errors["condition"] = _("At most %(n)d conditions in one rule.", n=conditions.MAX_LEAVES)
    if count and any(conditions.is_group(g) and not g["items"] for g in draft.condition["items"]):
        errors["condition"] = _("A group has no conditions: add one or remove the group.")
    tree, leaf_errors = conditions.validate_tree(draft.condition, indicators or evaluation.indicators_by_code()) \
        if count and "condition" not in errors else (draft.condition, {})
    if errors or leaf_errors:
        raise RuleInvalid(errors, leaf_errors)
    return tree


def preview(tree: dict, *, limit: int = 20, indicators: dict | None = None) -> Preview:
    """How many patients (and which, newest cards first) a checked tree matches now."""
    indicators = indicators or evaluation.indicators_by_code()
    matching = evaluation.compiler(indicators).matching_ids(tree).subquery("matching")
    count = db.session.execute(select(func.count()).select_from(matching)).scalar_one()
    total = db.session.execute(select(func.count()).select_from(patients.Patient).where(
        patients.Patient.tenant_id == require_tenant_id())).scalar_one()
    ids = evaluation.compiler(indicators).matching_ids(tree).subquery("matching")
    sample = list(db.session.scalars(select(patients.Patient).where(patients.Patient.id.in_(select(ids.c.patient_id)))
                                     .order_by(patients.Patient.id.desc()).limit(limit))) if count else []
    return Preview(count, total, sample)


# ------------------------------------------------------------------ saving

def save(draft: RuleDraft, tree: dict, rule: TagRule | None = None, *, actor_id: int | None = None) -> TagRule:
    """Create or change a rule from a checked tree. The caller commits and
    then starts the evaluation (``services.start_evaluation``)."""
    tag = tag_named(draft.tag)
    if tag is None:  # made when missing; check() refuses an empty name
        raise ValueError("a rule without a tag name")
    if rule is None:
        rule = TagRule(created_by=actor_id, version=1)
        db.session.add(rule)
    elif (rule.condition, rule.tag_id, rule.active) != (tree, tag.id, draft.active):
        rule.version = (rule.version or 1) + 1
    rule.name, rule.tag_id, rule.condition, rule.active = draft.name, tag.id, tree, draft.active
    if draft.source or rule.pack_key == "":
        rule.source = draft.source.strip()[:2000]
    db.session.flush()
    audit.record("tag_rule_saved", name=rule.name, tag=draft.tag, version=rule.version, active=rule.active)
    return rule


def remove(rule: TagRule) -> None:
    audit.record("tag_rule_deleted", name=rule.name)
    db.session.execute(delete(PatientTag).where(PatientTag.tenant_id == rule.tenant_id,
                                                PatientTag.rule_id == rule.id))
    db.session.delete(rule)


def list_rules() -> list[TagRule]:
    return list(db.session.scalars(select(TagRule).order_by(TagRule.created_at, TagRule.id)))


def match_counts() -> dict[int, int]:
    """{rule id: patients it tags now}, in one query. Read from the tags themselves, not from
    TagRule.match_count: that is written by a clinic-wide run only, and each patient's own
    evaluation (after new results or a history edit) changes the tags between runs."""
    pt = PatientTag.__table__
    return dict(db.session.execute(select(pt.c.rule_id, func.count()).where(pt.c.tenant_id == require_tenant_id())
                                   .group_by(pt.c.rule_id)).tuples().all())


def get(rule_id: int) -> TagRule | None:
    return db.session.scalar(select(TagRule).where(TagRule.id == rule_id))
