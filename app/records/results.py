"""Storing observations: units, flags, duplicates, corrections, derived values.

``store`` (``store_many`` for several at once) is the one way a value enters
the record, whether typed by staff, imported or computed. The caller commits.
"""
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import cast

from sqlalchemy import and_, literal, select, union_all

from app.core import clock, events
from app.records import catalogue, derived
from app.records.models import Indicator, Observation
from app.records.parsed import CANCELLED
from app.records.signals import results_stored
from tenants.db import db

LAB_FLAGS = {"N": "N", "L": "L", "H": "H", "LL": "LL", "HH": "HH", "A": "A", "<": "L", ">": "H",
             "HU": "HH", "LU": "LL", "AA": "A"}


@dataclass
class Value:
    indicator: Indicator
    value_text: str
    unit: str
    observed_at: datetime
    ref_low: float | None = None
    ref_high: float | None = None
    ref_text: str = ""
    lab_flag: str = ""
    status: str = "final"
    numeric: bool = True  # False: a text value that merely looks like a number (a date) is kept as text


@dataclass
class Stored:
    # new | duplicate | restored (an earlier value made current again) | retracted (the earlier value the
    # lab withdrew, in observation) | skipped (a retraction of nothing current)
    outcome: str
    observation: Observation | None = None


def entry_moment(day: date) -> datetime:
    """When a value typed for ``day`` was measured: now if the day is the
    clinic's today, else 09:00 clinic time that day."""
    return clock.utcnow() if day == clock.today() else clock.at(day, time(9, 0))


def _fingerprint(patient_id: int, value: Value) -> str:
    parts = [str(patient_id), value.indicator.code, value.observed_at.isoformat(), value.value_text.strip(),
             catalogue.normalise_unit(value.unit), value.status]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _flag(value: Value, number: float | None, normalised: float | None, patient) -> tuple[str, str]:
    """The lab's flag, else the lab's printed range, else the catalogue's range; a value beyond the
    indicator's critical limits is critical whatever the lab said."""
    if normalised is not None:
        critical = catalogue.critical_flag(normalised, value.indicator.critical)
        if critical:
            return critical, "critical"
    return _range_flag(value, number, normalised, patient)


def _range_flag(value: Value, number: float | None, normalised: float | None, patient) -> tuple[str, str]:
    lab_flag = LAB_FLAGS.get((value.lab_flag or "").upper(), "")
    if lab_flag:
        return lab_flag, "lab"
    if number is None or normalised is None:  # None together: normalised is number in the catalogue unit
        return "", ""
    if value.ref_low is not None or value.ref_high is not None:
        return catalogue.flag_from_range(number, value.ref_low, value.ref_high), "range"
    rule = catalogue.reference_range(value.indicator, patient.sex,
                                     clock.age(patient.birth_date, clock.local_date(value.observed_at)))
    if rule is None:
        return "", ""
    return catalogue.flag_from_range(normalised, rule.get("low"), rule.get("high"),
                                     rule.get("high_inclusive", False)), "catalogue"


def store(patient, value: Value, *, report_id: int | None = None, origin: str = "manual",
          actor_id: int | None = None) -> Stored:
    """Store one value; raises catalogue.CatalogueError for a unit that does
    not convert. The same value twice is a duplicate; a new value for the same
    indicator, time and report supersedes the earlier one, which is kept."""
    return store_many(patient, [value], report_id=report_id, origin=origin, actor_id=actor_id)[0]


def store_many(patient, values: list[Value], *, report_id: int | None = None, origin: str = "manual",
               actor_id: int | None = None) -> list[Stored]:
    """``store`` for several values, with the same outcome as storing them one
    after the other: one query finds the values stored already and whether
    any might be superseded, one INSERT stores the new ones. Every unit is
    converted before anything is added."""
    outcomes: list[Stored | None] = [None] * len(values)
    for i, value in enumerate(values):
        if value.status == CANCELLED:
            outcomes[i] = _retract(patient, value, report_id, origin, actor_id)
    fingerprints = {i: _fingerprint(patient.id, v) for i, v in enumerate(values) if v.status != CANCELLED}
    stored, anything_current = _look_up(patient.id, [values[i] for i in fingerprints],
                                        list(fingerprints.values()), report_id)
    rows = []
    for i, value in enumerate(values):
        if i not in fingerprints:
            continue
        if fingerprints[i] in stored:
            outcomes[i] = Stored("duplicate")
        else:
            stored.add(fingerprints[i])  # the same value twice in one go is a duplicate too
            rows.append((i, _row(patient, value, fingerprints[i], report_id, origin, actor_id)))
    # Typed or computed again after a correction, an earlier value is right again: it becomes current
    # (unless this batch brings a newer one for its indicator and time). A re-imported file must change
    # nothing, so imports never do this.
    repeated = {fingerprints[i]: i for i, outcome in enumerate(outcomes)
                if i in fingerprints and outcome and outcome.outcome == "duplicate"}
    restorable = _superseded(patient.id, list(repeated)) if origin != "import" else []
    if rows:
        restorable = [r for r in restorable if (r.indicator_id, r.observed_at) not in
                      {(row.indicator_id, row.observed_at) for _, row in rows}]
        new = [row for _, row in rows]
        db.session.add_all(new)
        db.session.flush()
        keys = [(row.indicator_id, row.observed_at) for row in new]
        if anything_current or len(set(keys)) < len(keys):  # the usual new report has nothing to supersede
            _supersede(patient.id, new, report_id)
    for i, row in rows:
        outcomes[i] = Stored("new", row)
    for row in restorable:
        row.superseded_by = None
        db.session.flush()
        _supersede(patient.id, [row], row.report_id)
        outcomes[repeated[row.fingerprint]] = Stored("restored", row)
    changed = [values[i].indicator.code for i, row in rows]
    changed += [values[repeated[row.fingerprint]].indicator.code for row in restorable]
    changed += [values[i].indicator.code for i, o in enumerate(outcomes) if o is not None and o.outcome == "retracted"]
    if changed:
        events.send(results_stored, patient_ids=[patient.id], codes=sorted(set(changed)))
    if any(outcome is None for outcome in outcomes):  # each value got one of the outcomes above
        raise RuntimeError("a value was left without an outcome")
    return cast(list[Stored], outcomes)


def _retract(patient, value: Value, report_id: int | None, origin: str, actor_id) -> Stored:
    """A retraction (HL7 OBX-11 W/D/X, FHIR entered-in-error or cancelled) withdraws the current value of
    its indicator at its time from the same report: the value leaves the current results and trends and
    is superseded by a row recording the retraction, which is never current itself."""
    fingerprint = _fingerprint(patient.id, value)
    if db.session.scalar(select(Observation.id).where(Observation.patient_id == patient.id,
                                                      Observation.fingerprint == fingerprint)):
        return Stored("duplicate")
    earlier = list(db.session.scalars(select(Observation).where(
        _same_source(patient.id, report_id), Observation.indicator_id == value.indicator.id,
        Observation.observed_at == value.observed_at)))
    if not earlier:
        return Stored("skipped")
    marker = Observation(patient_id=patient.id, indicator_id=value.indicator.id, report_id=report_id,
                         observed_at=value.observed_at, value=None, value_text=value.value_text.strip()[:80],
                         reported_unit=catalogue.normalise_unit(value.unit)[:30], status=CANCELLED, origin=origin,
                         fingerprint=fingerprint, entered_by=actor_id)
    db.session.add(marker)
    db.session.flush()
    marker.superseded_by = marker.id  # a record of the retraction, not a value
    for row in earlier:
        row.superseded_by = marker.id
    return Stored("retracted", earlier[-1])


def _superseded(patient_id: int, fingerprints: list[str]) -> list[Observation]:
    if not fingerprints:
        return []
    return list(db.session.scalars(select(Observation).where(
        Observation.patient_id == patient_id, Observation.fingerprint.in_(fingerprints),
        Observation.superseded_by.is_not(None))))


def _row(patient, value: Value, fingerprint: str, report_id, origin: str, actor_id) -> Observation:
    return Observation(**columns(patient, value, fingerprint, report_id, origin, actor_id))


def columns(patient, value: Value, fingerprint: str, report_id, origin: str, actor_id) -> dict:
    """A new observation's columns (``_row``'s, or one row of a many-patient INSERT)."""
    number = catalogue.as_number(value.value_text) if value.numeric else None
    normalised = catalogue.convert(number, value.unit, value.indicator) if number is not None else None
    if normalised is not None and (problem := catalogue.implausible(normalised, value.indicator)):
        raise catalogue.CatalogueError(problem)  # typed by hand: shown next to the field
    flag, flag_source = _flag(value, number, normalised, patient)
    return dict(
        patient_id=patient.id, indicator_id=value.indicator.id, report_id=report_id,
        observed_at=value.observed_at, value=normalised, value_text=value.value_text.strip()[:80],
        reported_unit=catalogue.normalise_unit(value.unit)[:30], ref_low=value.ref_low, ref_high=value.ref_high,
        ref_text=value.ref_text[:80], flag=flag, flag_source=flag_source, status=value.status, origin=origin,
        fingerprint=fingerprint, entered_by=actor_id,
    )


def _same_source(patient_id: int, report_id: int | None):
    """Current values of the patient from the same report (or, without one, entered by hand)."""
    return and_(Observation.patient_id == patient_id, Observation.superseded_by.is_(None),
                Observation.report_id == report_id if report_id else Observation.report_id.is_(None))


def _look_up(patient_id: int, values: list[Value], fingerprints: list[str],
             report_id: int | None) -> tuple[set[str], bool]:
    """-> (the fingerprints stored already, whether the same source has a current value of an indicator
    of ``values`` at one of their times: then a new value may supersede it), in one round trip (a
    UNION ALL: each half uses its own index). Times are compared only by the database: SQLite keeps
    them without their offset."""
    if not values:
        return set(), False
    stored = select(Observation.fingerprint, literal(False).label("current")).where(
        Observation.patient_id == patient_id,  # implied by the fingerprint; bounds the plan to one patient
        Observation.fingerprint.in_(list(dict.fromkeys(fingerprints))))
    current = select(Observation.fingerprint, literal(True).label("current")).where(
        _same_source(patient_id, report_id),
        Observation.indicator_id.in_(list(dict.fromkeys(v.indicator.id for v in values))),
        Observation.observed_at.in_(list(dict.fromkeys(v.observed_at for v in values)))).limit(1).subquery()
    # the LIMIT goes in a subquery: SQLite refuses a parenthesised member of a UNION
    found = db.session.execute(union_all(stored, select(current.c.fingerprint, current.c.current))).all()
    return {row.fingerprint for row in found if not row.current}, any(row.current for row in found)


def _supersede(patient_id: int, rows: list[Observation], report_id: int | None) -> None:
    """As if stored one after the other: each new row supersedes the current values of its indicator at
    its time from the same source, new rows stored before it included."""
    new_ids = [row.id for row in rows]
    for position, row in enumerate(rows):
        later = new_ids[position:]  # itself, and the rows after it, which supersede it in turn
        for previous in db.session.scalars(select(Observation).where(
                _same_source(patient_id, report_id), Observation.indicator_id == row.indicator_id,
                Observation.observed_at == row.observed_at, Observation.id.not_in(later))):
            previous.superseded_by = row.id


def _current_at(patient_id: int, codes: tuple[str, ...], at: datetime) -> dict[str, Observation]:
    """The latest current value with a number of each indicator code at one time, in one query."""
    found: dict[str, Observation] = {}
    for observation, code in db.session.execute(
            select(Observation, Indicator.code).join(Indicator, (Indicator.id == Observation.indicator_id)
                                                     & (Indicator.tenant_id == Observation.tenant_id))
            .where(Observation.patient_id == patient_id, Indicator.code.in_(codes), Observation.observed_at == at,
                   Observation.superseded_by.is_(None), Observation.value.is_not(None))
            .order_by(Observation.id.desc())):
        found.setdefault(code, observation)
    return found


def indicator_by_code(code: str) -> Indicator | None:
    return db.session.scalar(select(Indicator).where(Indicator.code == code))


def derive(patient, at: datetime, *, report_id: int | None = None,
           indicator: Callable[[str], Indicator | None] = indicator_by_code) -> list[Observation]:
    """BMI from height and weight, eGFR from creatinine, at one time. A value
    computed earlier is recomputed when its inputs were corrected and then
    superseded (one current BMI per time); a BMI or eGFR the lab reported
    itself is left alone. ``indicator`` finds a catalogue entry by code (an
    import passes its catalogue.CodeIndex's, which needs no query)."""
    current = _current_at(patient.id, (derived.HEIGHT_CODE, derived.WEIGHT_CODE, derived.BMI_CODE,
                                       derived.CREATININE_CODE, derived.EGFR_CODE), at)
    height, weight, creatinine = (current.get(code) for code in (derived.HEIGHT_CODE, derived.WEIGHT_CODE,
                                                                  derived.CREATININE_CODE))
    wanted = {}
    # _current_at reads values with a number only
    if height and weight and height.value is not None and weight.value is not None:
        wanted[derived.BMI_CODE] = derived.bmi(height.value, weight.value)
    if creatinine and creatinine.value is not None:
        wanted[derived.EGFR_CODE] = derived.egfr_ckd_epi_2021(
            creatinine.value, clock.age(patient.birth_date, clock.local_date(at)), patient.sex)
    values, replaced = [], []
    for code, number in wanted.items():
        entry, earlier = indicator(code), current.get(code)
        if not number or entry is None:
            continue
        text = f"{number:.{entry.decimals}f}"
        if earlier is not None and (earlier.origin != "computed" or earlier.value_text == text):
            continue  # reported by the lab, or still right
        values.append(Value(entry, text, entry.unit, at))
        replaced.append(earlier)
    if not values:
        return []
    stored = store_many(patient, values, report_id=report_id, origin="computed")
    for outcome, earlier in zip(stored, replaced):
        if outcome.observation is not None and earlier is not None and earlier.superseded_by is None:
            earlier.superseded_by = outcome.observation.id  # it came from another source: store did not
    return [s.observation for s in stored if s.observation is not None]


def history(patient_id: int) -> list[tuple[Observation, Indicator]]:
    """Every current value of a patient, oldest first. The indicators come in a query of their own:
    joined, each row would carry (and decode) its indicator's JSON columns again."""
    observations = list(db.session.scalars(
        select(Observation).where(Observation.patient_id == patient_id, Observation.superseded_by.is_(None))
        .order_by(Observation.observed_at, Observation.id)))
    wanted = list(dict.fromkeys(o.indicator_id for o in observations))
    indicators = {i.id: i for i in db.session.scalars(select(Indicator).where(Indicator.id.in_(wanted)))} \
        if wanted else {}
    rows = [(o, indicators[o.indicator_id]) for o in observations]
    rows.sort(key=lambda pair: (pair[1].group, pair[1].code))
    rows.sort(key=lambda pair: pair[0].observed_at)  # stable: by time, then group and code as before
    return rows


def previous_value(patient_id: int, indicator_id: int, before: datetime) -> Observation | None:
    return db.session.scalar(
        select(Observation).where(Observation.patient_id == patient_id, Observation.indicator_id == indicator_id,
                                  Observation.observed_at < before, Observation.superseded_by.is_(None))
        .order_by(Observation.observed_at.desc()).limit(1))


def previous_flags(patient_id: int, observations: list[Observation]) -> dict[int, str | None]:
    """For each (stored) observation, the flag of the latest current value of its indicator before it
    (None when there is none): ``previous_value`` for many in one query. Times are compared as the
    database returns them, so that both sides are alike."""
    if not observations:
        return {}
    rows = db.session.execute(
        select(Observation.id, Observation.indicator_id, Observation.observed_at, Observation.flag)
        .where(Observation.patient_id == patient_id, Observation.superseded_by.is_(None),
               Observation.indicator_id.in_(list(dict.fromkeys(o.indicator_id for o in observations))))).all()
    by_id = {row.id: row for row in rows}
    found = {}
    for observation in observations:
        mine = by_id.get(observation.id)
        if mine is None:  # not current: ask the database as previous_value does
            previous = previous_value(patient_id, observation.indicator_id, observation.observed_at)
            found[observation.id] = previous.flag if previous else None
            continue
        earlier = [r for r in rows if r.indicator_id == mine.indicator_id and r.observed_at < mine.observed_at]
        found[observation.id] = max(earlier, key=lambda r: (r.observed_at, r.id)).flag if earlier else None
    return found
