"""Running tag rules: over a whole clinic in SQL, or for one patient.

Set-based (a rule created or changed, ``flask tagging evaluate``): per rule one
DELETE of the tags whose condition no longer holds and one INSERT ... SELECT
... ON CONFLICT that adds the new ones and refreshes changed evidence; no
Python loop over patients. One patient (after their data changed): the same
compiled SELECTs, filtered to the patient, in one UNION ALL; the differences
are written row by row, and the rules that started or stopped holding are
returned for whoever acts on them.

On PostgreSQL a clinic-wide run takes the clinic's evaluation lock
exclusively and a patient's run takes it shared, so a patient's fresh tags
are never overwritten by a clinic-wide run that read older data.
"""
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, literal, or_, select, text, true, union_all, update

from app.core import clock, events
from app.core.bulk import conflict_insert
from app.records import services as records
from app.tagging.compiler import Compiler
from app.tagging.models import PatientTag, TagRule
from app.tagging.signals import tags_changed
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import utcnow

log = logging.getLogger(__name__)
LOCK_CLASS = 7301  # pg_advisory_xact_lock(class, key): "tag evaluation of a clinic"


@dataclass
class RuleRun:
    rule_id: int
    matched: int = 0
    added: int = 0
    removed: int = 0
    name: str = ""


@dataclass
class PatientChanges:
    """The rules that started (``added``) or stopped (``removed``) holding."""

    patient_id: int
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _lock(shared: bool) -> None:
    if _dialect() != "postgresql":
        return
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    db.session.execute(text(f"SELECT {fn}(:cls, :key)"),
                       {"cls": LOCK_CLASS, "key": require_tenant_id() % 2_147_483_647})


def indicators_by_code() -> dict:
    return {i.code: i for i in records.catalogue.all_indicators(active_only=False)}


def compiler(indicators: dict, *, patient_id: int | None = None, now: datetime | None = None,
             prefix: str = "t") -> Compiler:
    return Compiler(require_tenant_id(), indicators, patient_id=patient_id, now=now, dialect=_dialect(),
                    prefix=prefix)


def _upsert(statement):
    excluded = statement.excluded
    pt = PatientTag.__table__
    return statement.on_conflict_do_update(
        index_elements=[pt.c.tenant_id, pt.c.rule_id, pt.c.patient_id],
        set_={"evidence": excluded.evidence, "tag_id": excluded.tag_id, "rule_version": excluded.rule_version,
              "updated_at": excluded.updated_at},
        where=or_(pt.c.evidence.is_distinct_from(excluded.evidence), pt.c.tag_id != excluded.tag_id,
                  pt.c.rule_version != excluded.rule_version))


def _count(rule_id: int) -> int:
    pt = PatientTag.__table__
    return db.session.execute(select(func.count()).select_from(pt).where(
        pt.c.tenant_id == require_tenant_id(), pt.c.rule_id == rule_id)).scalar_one()


# ------------------------------------------------------------- set-based

def evaluate_rule(rule: TagRule, indicators: dict | None = None, *, now: datetime | None = None,
                  lock: bool = True) -> RuleRun:
    """Bring one rule's tags up to date for every patient of the clinic
    (an inactive rule loses them all). The caller commits."""
    if lock:
        _lock(shared=False)
    indicators = indicators if indicators is not None else indicators_by_code()
    tenant_id, now = require_tenant_id(), now or utcnow()
    pt = PatientTag.__table__
    mine = [pt.c.tenant_id == tenant_id, pt.c.rule_id == rule.id]
    # the changes are counted, not read from the driver's row counts (which may say -1 for "unknown")
    before = _count(rule.id)
    if not rule.active:
        db.session.execute(delete(pt).where(*mine))
        rule.evaluated_at, rule.match_count = now, 0
        return RuleRun(rule.id, 0, 0, before, rule.name)
    still = compiler(indicators, now=now).matching_ids(rule.condition)
    db.session.execute(delete(pt).where(*mine, pt.c.patient_id.not_in(still)))
    kept = _count(rule.id)
    matches = compiler(indicators, now=now).matches(rule.condition).subquery("m")
    rows = select(literal(tenant_id), literal(rule.id), matches.c.patient_id, literal(rule.tag_id),
                  literal(rule.version), matches.c.evidence, literal(now), literal(now)).where(true())
    db.session.execute(_upsert(conflict_insert(pt).from_select(
        ["tenant_id", "rule_id", "patient_id", "tag_id", "rule_version", "evidence", "applied_at", "updated_at"],
        rows)))
    matched = _count(rule.id)
    rule.evaluated_at, rule.match_count = now, matched
    events.send(tags_changed, patient_ids=None, tag_ids=[rule.tag_id])  # plans started or stopped by this tag
    return RuleRun(rule.id, matched, matched - kept, before - kept, rule.name)


def active_rules() -> list[TagRule]:
    return list(db.session.scalars(select(TagRule).where(TagRule.active.is_(True)).order_by(TagRule.created_at)))


def evaluate_rules(rule_ids: list[int] | None = None, *, progress=None, commit: bool = False) -> list[RuleRun]:
    """Set-based evaluation of some rules (default: every rule, so that
    inactive ones lose their tags). With ``commit``, one transaction per rule."""
    query = select(TagRule).order_by(TagRule.created_at)
    if rule_ids:
        query = query.where(TagRule.id.in_(rule_ids))
    rules = list(db.session.scalars(query))
    indicators, runs = indicators_by_code(), []
    for done, rule in enumerate(rules, 1):
        try:
            runs.append(evaluate_rule(rule, indicators))
        except KeyError as exc:  # an indicator left the catalogue: skip the rule, keep going
            log.warning("tag rule %s cannot be evaluated: unknown indicator %s", rule.id, exc)
            continue
        if commit:
            db.session.commit()
        if progress:
            progress(done, len(rules))
    return runs


# ------------------------------------------------------------ one patient

# Building the SQL of ten rules costs more than running it for one patient:
# the UNION of every active rule is built once per clinic, rule versions,
# catalogue size and day, and run with the patient and cut-offs as parameters.
_STATEMENTS: OrderedDict = OrderedDict()
_STATEMENTS_KEPT = 256


def _patient_statement(rules: list[TagRule], now: datetime):
    key = (_dialect(), require_tenant_id(), tuple((r.id, r.version) for r in rules),
           clock.local_date(now))
    cached = _STATEMENTS.get(key)
    if cached is not None:
        _STATEMENTS.move_to_end(key)
        return cached
    indicators, selects, windows = indicators_by_code(), [], set()
    for position, rule in enumerate(rules):
        built = compiler(indicators, patient_id=0, now=now, prefix=f"q{position}")
        try:
            matches = built.matches(rule.condition)
        except KeyError as exc:
            log.warning("tag rule %s cannot be evaluated: unknown indicator %s", rule.id, exc)
            continue
        windows |= built.windows
        selects.append(matches.with_only_columns(literal(rule.id).label("rule_id"),
                                                 *matches.selected_columns))
    statement = (union_all(*selects) if len(selects) > 1 else selects[0]) if selects else None
    _STATEMENTS[key] = (statement, frozenset(windows))
    while len(_STATEMENTS) > _STATEMENTS_KEPT:
        _STATEMENTS.popitem(last=False)
    return statement, frozenset(windows)


def _patient_rows(patient_id: int, rules: list[TagRule], now: datetime) -> dict[int, dict]:
    statement, windows = _patient_statement(rules, now)
    if statement is None:
        return {}
    params = Compiler.params(windows, patient_id, now)
    return {row.rule_id: row.evidence for row in db.session.execute(statement, params)}


def evaluate_patient(patient_id: int, *, now: datetime | None = None) -> PatientChanges:
    """Bring one patient's automatic tags up to date with every active rule.
    The caller commits (the RQ job does)."""
    _lock(shared=True)
    tenant_id, now = require_tenant_id(), now or utcnow()
    pt = PatientTag.__table__
    rules = {rule.id: rule for rule in active_rules()}
    holding = _patient_rows(patient_id, list(rules.values()), now)
    existing = {row.rule_id: row for row in db.session.execute(
        select(pt.c.rule_id, pt.c.evidence, pt.c.tag_id, pt.c.rule_version)
        .where(pt.c.tenant_id == tenant_id, pt.c.patient_id == patient_id))}
    changes = PatientChanges(patient_id)
    gone = [rule_id for rule_id in existing if rule_id not in holding]
    if gone:
        db.session.execute(delete(pt).where(pt.c.tenant_id == tenant_id, pt.c.patient_id == patient_id,
                                            pt.c.rule_id.in_(gone)))
        changes.removed = gone
    for rule_id, evidence in holding.items():
        rule, old = rules[rule_id], existing.get(rule_id)
        if old is None:
            db.session.execute(_upsert(conflict_insert(pt).values(
                tenant_id=tenant_id, rule_id=rule_id, patient_id=patient_id, tag_id=rule.tag_id,
                rule_version=rule.version, evidence=evidence, applied_at=now, updated_at=now)))
            changes.added.append(rule_id)
        elif (old.evidence, old.tag_id, old.rule_version) != (evidence, rule.tag_id, rule.version):
            db.session.execute(update(pt).where(
                pt.c.tenant_id == tenant_id, pt.c.patient_id == patient_id, pt.c.rule_id == rule_id).values(
                evidence=evidence, tag_id=rule.tag_id, rule_version=rule.version, updated_at=now))
            changes.refreshed.append(rule_id)
    if changes.added or changes.removed:  # plans started or stopped by these tags
        touched = {rules[r].tag_id for r in changes.added} | {existing[r].tag_id for r in changes.removed}
        events.send(tags_changed, patient_ids=[patient_id], tag_ids=sorted(touched))
    return changes
