"""A patient's model inputs, read from their data through the other
capabilities' services, each with where it came from.

Every input of a definition names its sources in ``from``, tried in order:

- ``{"observation": LOINC, "max_age_days": n}``: the newest current value
  of that indicator (in the catalogue unit, which the packs' units match);
- ``{"questionnaire": key, "item": question, "map": {answer: value}}``: the
  newest submitted response's answer, mapped to the input's value (an answer
  the map lacks gives nothing);
- ``{"patient": "sex" | "age" | "smoking"}``: the card (sex, age at the
  clinic's today) or the recorded habit, through ``map``;
- ``{"history": kind, "about": ..., "words": [...]}``: yes when an item of
  that kind contains one of the words; no when none does and the health
  history was taken (some item or habit recorded); nothing otherwise. Such a
  "no" gives way to any later source that has a value.

A value older than its source's ``max_age_days`` (counted in clinic days)
is too old: it is not used, and it is listed apart from inputs never
recorded. Nothing is guessed: an input without a usable value is missing.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import lru_cache

from app.core import clock
from app.patients import services as patients
from app.questionnaires import services as questionnaires
from app.records import services as records
from app.risk.inputs import RiskInputError, typed

SEXES = {"M": "male", "F": "female"}


@dataclass
class PatientData:
    """What the models read of one patient, loaded for many at once."""
    patient: object                                 # patients.facts.Card
    latest: dict = field(default_factory=dict)      # LOINC code -> records.Latest
    answers: dict = field(default_factory=dict)     # questionnaire key -> questionnaires.Answers
    history: list = field(default_factory=list)     # patients.facts.HistoryItem, oldest first


@dataclass
class Gathered:
    values: dict = field(default_factory=dict)      # input -> value
    checked: dict = field(default_factory=dict)     # input -> value as the engine takes it (inputs.typed)
    inputs: dict = field(default_factory=dict)      # input -> {value, kind, source_id, date}
    too_old: dict = field(default_factory=dict)     # input -> {kind, source_id, date, max_age_days}


def sources(definitions) -> tuple[set[str], set[str]]:
    """The LOINC codes and questionnaire keys these definitions read."""
    codes, keys = set(), set()
    for definition in definitions:
        for spec in definition["inputs"]:
            for source in spec["from"]:
                if "observation" in source:
                    codes.add(source["observation"])
                if "questionnaire" in source:
                    keys.add(source["questionnaire"])
    return codes, keys


def load(patient_ids, definitions, *, ranged: bool = False) -> dict[int, PatientData]:
    """Each patient's data the definitions read, in a few queries whatever the count (``ranged``:
    the ids follow each other, read as their range)."""
    codes, keys = sources(definitions)
    found = {pid: PatientData(card) for pid, card in patients.facts.cards(patient_ids, ranged=ranged).items()}
    ids = list(found)
    if not ids:
        return found
    for pid, latest in records.latest_values(codes, ids, ranged=ranged).items():
        found[pid].latest = latest
    for key in keys:
        for pid, answers in questionnaires.latest_answers(key, ids).items():
            found[pid].answers[key] = answers
    for pid, items in patients.facts.history_items(ids, ranged=ranged).items():
        found[pid].history = items
    return found


def gather(definition: dict, data: PatientData, today: date, zone: tzinfo | None = None) -> Gathered:
    """``zone``: the clinic's (read here when not given; a caller gathering for many patients passes it)."""
    gathered = Gathered()
    zone = zone or clock.zone()
    for spec in definition["inputs"]:
        chosen = None
        for source in spec["from"]:
            outcome = _read(source, data, today, zone)
            if outcome is None:
                continue
            kind, value, provenance = outcome
            if kind == "too_old":
                gathered.too_old.setdefault(spec["name"], provenance)
                continue
            try:
                engine_value = typed(spec, value)
            except RiskInputError:
                continue
            if kind == "weak":  # a "no" for want of a history item: any later source with a value wins
                chosen = chosen or (value, provenance, engine_value)
                continue
            chosen = (value, provenance, engine_value)
            break
        if chosen is not None:
            value, provenance, engine_value = chosen
            gathered.values[spec["name"]] = value
            gathered.checked[spec["name"]] = engine_value
            gathered.inputs[spec["name"]] = {"value": value, **provenance}
            gathered.too_old.pop(spec["name"], None)
    return gathered


def _provenance(kind: str, source_id, on: date | None) -> dict:
    return {"kind": kind, "source_id": source_id, "date": on.isoformat() if on else None}


@lru_cache(maxsize=65536)  # an observation is read by several models
def _local_date(moment: datetime, zone: tzinfo) -> date:
    """clock.local_date in a zone read once."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: say which zone it is in")
    return moment.astimezone(zone).date()


def _dated(value, kind: str, source_id: int, moment: datetime, max_age: int | None, today: date, zone: tzinfo):
    on = _local_date(moment, zone)
    provenance = _provenance(kind, source_id, on)
    if max_age is not None and (today - on).days > max_age:
        return "too_old", None, {**provenance, "max_age_days": max_age}
    return "value", value, provenance


def _read(source: dict, data: PatientData, today: date, zone: tzinfo):
    """("value" | "weak" | "too_old", value, provenance), or None when the source has nothing."""
    if "observation" in source:
        latest = data.latest.get(source["observation"])
        if latest is None:
            return None
        return _dated(latest.value, "observation", latest.observation_id, latest.observed_at,
                      source.get("max_age_days"), today, zone)
    if "questionnaire" in source:
        answers = data.answers.get(source["questionnaire"])
        answer = answers.answers.get(source["item"]) if answers else None
        if answers is None or answer is None or answer not in source["map"]:
            return None
        return _dated(source["map"][answer], "answer", answers.response_id, answers.submitted_at,
                      source.get("max_age_days"), today, zone)
    if "patient" in source:
        return _card(source, data.patient, today)
    return _history(source, data, zone)


def _card(source: dict, patient, today: date):
    field_name = source["patient"]
    if field_name == "sex":
        value = SEXES.get(patient.sex)
        return None if value is None else ("value", value, _provenance("card", patient.id, None))
    if field_name == "age":
        return "value", clock.age(patient.birth_date, today), _provenance("card", patient.id, None)
    habit = getattr(patient, field_name, "")
    if habit not in source.get("map", {}):
        return None
    return "value", source["map"][habit], _provenance("history", patient.id, None)


def _history(source: dict, data: PatientData, zone: tzinfo):
    words = [word.casefold() for word in source["words"]]
    for item in data.history:
        if item.kind == source["history"] and any(word in item.description.casefold() for word in words):
            return "value", True, _provenance("history", item.id, _local_date(item.created_at, zone))
    taken = bool(data.history) or any(getattr(data.patient, habit, "") for habit in ("smoking", "alcohol", "exercise"))
    return ("weak", False, _provenance("history", None, None)) if taken else None
