"""Assessing patients: gather each model's inputs from their data, compute,
and keep the result when it differs from the current one.

A result is kept as a new ``RiskAssessment`` row (the earlier one stops
being current and stays as history) only when something about it changed:
the value, band or status, an input's value or source, or what is missing.
An ok result of a model that declares an ``observation`` (a score or a
risk, not a measurement read back) is also stored as an observation under
the clinic's local code for that model (``careloop-risk-<model>``), through
records as questionnaire scores are, so tags, trends and follow-up triggers
read it like any result.
"""
import hashlib
import json
from collections.abc import Iterable
from contextlib import contextmanager

from sqlalchemy import delete, insert, select, update

from app.core import clock
from app.patients import services as patients
from app.patients.services import facts
from app.records import services as records
from app.risk.definitions import all_models, input_spec
from app.risk.engine import evaluate
from app.risk.inputs import typed
from app.risk.models import RiskAssessment
from app.risk.patient_inputs import Gathered, PatientData, gather, load
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.ids import new_id
from tenants.services import lock_clinic_work

RECOMPUTE_LOCK = "risk recompute"  # a clinic-wide run holds it (tenants.services.lock_clinic_work)

ORIGIN = "risk"  # Observation.origin of a model's result
STORING = "risk:storing"  # session.info flag: the results-stored signal now comes from our own observations
COMPARED = ("version", "status", "value_text", "band", "inputs", "missing")
MEMO_SIZE = 50_000  # engine results kept over a clinic-wide run (then forgotten and kept afresh)


def own_codes() -> set[str]:
    return {d["observation"]["code"] for d in all_models().values() if d.get("observation")}


def assess(definition: dict, gathered: Gathered, memo: dict | None = None) -> dict:
    """The stored form of one model's result for gathered inputs, with its what-ifs. ``memo`` keeps
    the engine's results by model and input values over a run (many patients share their values)."""
    computed = None
    if memo is not None:
        key = (definition["id"], tuple((name, type(value), value) for name, value in gathered.checked.items()))
        computed = memo.get(key)
    if computed is None:
        result = evaluate(definition, gathered.checked)
        computed = result, what_ifs(definition, gathered.checked) if result["status"] == "ok" else []
        if memo is not None:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[key] = computed
    result, what_if = computed
    value = result["value"]
    missing = [{"input": name, "why": "too_old", **gathered.too_old[name]} if name in gathered.too_old
               else {"input": name, "why": "never"} for name in result["missing"]]
    if result["status"] == "missing":  # say too-old inputs even where the engine lists a smaller set
        named = {m["input"] for m in missing}
        missing += [{"input": n, "why": "too_old", **old} for n, old in gathered.too_old.items()
                    if n not in named and (input_spec(definition, n) or {}).get("required", True)]
    return {"model": definition["id"], "version": definition["version"], "status": result["status"],
            "value": value if isinstance(value, int | float) else None,
            "value_text": "" if value is None else _text(value), "unit": definition["unit"],
            "band": result["band"], "inputs": gathered.inputs, "missing": missing,
            "contributions": result["contributions"], "what_if": what_if}


def what_ifs(definition: dict, values: dict) -> list[dict]:
    """Each modifiable input with a target it does not meet, set at its target alone (``values``
    checked already)."""
    found = []
    for spec in definition["inputs"]:
        target = spec.get("target")
        now = values.get(spec["name"])
        if not target or now is None or _meets(now, target):
            continue
        then = evaluate(definition, {**values, spec["name"]: typed(spec, target["value"])})
        found.append({"input": spec["name"], "target": target["value"], "value": then["value"],
                      "band": then["band"]})
    return found


def _meets(value, target: dict) -> bool:
    direction = target.get("direction")
    if direction == "lower":
        return value <= target["value"]
    if direction == "higher":
        return value >= target["value"]
    return value == target["value"]


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def recompute(patient_ids: Iterable[int], models: Iterable[str] | None = None, *, memo: dict | None = None,
              ranged: bool = False) -> int:
    """Bring these patients' assessments up to date (of these models; None: every model); returns
    how many rows were added. The caller commits. ``ranged``: the ids follow each other (a set of a
    clinic-wide run), read as their range."""
    ids = list(dict.fromkeys(int(pid) for pid in patient_ids))
    chosen = None if models is None else set(models)
    definitions = [d for model_id, d in all_models().items() if chosen is None or model_id in chosen]
    if not ids or not definitions:
        return 0
    memo = {} if memo is None else memo
    data = load(ids, definitions, ranged=ranged)
    today, zone = clock.today(), clock.zone()
    query = (select(RiskAssessment.id, RiskAssessment.patient_id, RiskAssessment.model, RiskAssessment.fingerprint)
             .where(facts.within(RiskAssessment.patient_id, ids, ranged), RiskAssessment.is_current))
    if chosen is not None:
        query = query.where(RiskAssessment.model.in_([d["id"] for d in definitions]))
    current = {(pid, model): (row_id, fingerprint) for row_id, pid, model, fingerprint in db.session.execute(query)}
    now, tenant_id = clock.utcnow(), require_tenant_id()
    added: list[dict] = []
    replaced: list[int] = []
    stored: dict[int, list] = {}
    for pid, patient_data in data.items():
        for definition in definitions:
            fresh = assess(definition, gather(definition, patient_data, today, zone), memo)
            fresh["fingerprint"] = fingerprint(fresh)
            earlier = current.get((pid, definition["id"]))
            if earlier is not None and earlier[1] == fresh["fingerprint"]:
                continue
            if earlier is not None:
                replaced.append(earlier[0])
            added.append({**fresh, "tenant_id": tenant_id, "id": new_id(), "patient_id": pid, "computed_at": now,
                          "is_current": True})
            if fresh["status"] == "ok" and fresh["value"] is not None and definition.get("observation"):
                stored.setdefault(pid, []).append((definition, fresh["value"]))
    if replaced:  # first: one current row per patient and model
        db.session.execute(update(RiskAssessment).where(RiskAssessment.id.in_(replaced))
                           .values(is_current=False).execution_options(synchronize_session=False))
    if added:  # RETURNING: sent as statements of many rows each ("insertmanyvalues"), not one per row
        db.session.execute(insert(RiskAssessment.__table__).returning(RiskAssessment.__table__.c.id), added)
    _store_observations(data, stored, now)
    return len(added)


def fingerprint(fresh: dict) -> str:
    """A digest of what makes a result different from another: the stored rows keep theirs."""
    compared = json.dumps([fresh[key] for key in COMPARED], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(compared.encode()).hexdigest()


@contextmanager
def storing_own():
    session = db.session()
    session.info[STORING] = True
    try:
        yield
    finally:
        session.info.pop(STORING, None)


def _store_observations(data: dict[int, PatientData], stored: dict, now) -> None:
    if not stored:
        return
    indicators: dict[str, records.Indicator] = {}
    batches = [(data[pid].patient, [_value(definition, value, now, indicators) for definition, value in results])
               for pid, results in stored.items()]
    with storing_own():
        records.store_for_patients(batches, origin=ORIGIN)


def _value(definition: dict, value: float, now, indicators: dict) -> records.Value:
    spec = definition["observation"]
    return records.Value(indicator=_indicator(definition, indicators),
                         value_text=_number(value, spec.get("decimals", 1)), unit=spec["unit"], observed_at=now)


def _indicator(definition: dict, cache: dict) -> records.Indicator:
    """The clinic's catalogue entry of a model's result (made on first need, in the "other" group)."""
    spec = definition["observation"]
    if spec["code"] not in cache:
        found = records.indicator_by_code(spec["code"])
        if found is None:
            found = records.catalogue.add_local(spec["code"], definition["name"]["zh"][:80],
                                                definition["name"]["en"][:80], spec["unit"], "other")
            found.decimals = int(spec.get("decimals", 1))
            db.session.flush()
        cache[spec["code"]] = found
    return cache[spec["code"]]


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def forget(patient_id: int) -> None:
    db.session.execute(delete(RiskAssessment).where(RiskAssessment.patient_id == patient_id)
                       .execution_options(synchronize_session=False))


def recompute_clinic(*, batch: int = 2000, commit: bool = True, progress=None) -> tuple[int, int]:
    """Every card in use of the clinic, in sets of ``batch`` (the backfill, and catching up on
    inputs that grew too old); commits each set when ``commit``. -> (patients, rows added).
    Each set is read in a few queries (cards, latest values per code, answers, history items,
    current assessments), computed here, and only the changed results are written, in one
    INSERT per set (the scores as observations in another)."""
    ids = patients.active_ids()
    added = 0
    memo: dict = {}
    for start in range(0, len(ids), batch):
        added += recompute(ids[start:start + batch], memo=memo, ranged=True)
        if commit:
            db.session.commit()
            # another run of the command waits for each set: it then finds the set assessed already
            lock_clinic_work(RECOMPUTE_LOCK, require_tenant_id())
        if progress:
            progress(min(start + batch, len(ids)), len(ids))
    return len(ids), added
