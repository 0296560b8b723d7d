"""Storing observations: units, flags, duplicates, corrections, derived values.

``store`` is the one way a value enters the record, whether typed by staff,
imported or computed. The caller commits.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.records import catalogue, derived
from app.records.models import Indicator, Observation
from app.records.parsed import CANCELLED
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


@dataclass
class Stored:
    outcome: str  # new | duplicate | skipped
    observation: Observation | None = None


def _fingerprint(patient_id: int, value: Value) -> str:
    parts = [str(patient_id), value.indicator.code, value.observed_at.isoformat(), value.value_text.strip(),
             catalogue.normalise_unit(value.unit), value.status]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _flag(value: Value, number: float | None, normalised: float | None, patient) -> tuple[str, str]:
    lab_flag = LAB_FLAGS.get((value.lab_flag or "").upper(), "")
    if lab_flag:
        return lab_flag, "lab"
    if number is None:
        return "", ""
    if value.ref_low is not None or value.ref_high is not None:
        return catalogue.flag_from_range(number, value.ref_low, value.ref_high), "range"
    rule = catalogue.reference_range(value.indicator, patient.sex,
                                     derived.age_on(patient.birth_date, value.observed_at.date()))
    if rule is None:
        return "", ""
    return catalogue.flag_from_range(normalised, rule.get("low"), rule.get("high"),
                                     rule.get("high_inclusive", False)), "catalogue"


def store(patient, value: Value, *, report_id: int | None = None, origin: str = "manual",
          actor_id: int | None = None) -> Stored:
    """Store one value; raises catalogue.CatalogueError for a unit that does
    not convert. The same value twice is a duplicate; a new value for the same
    indicator, time and report supersedes the earlier one, which is kept."""
    if value.status == CANCELLED:
        return Stored("skipped")
    fingerprint = _fingerprint(patient.id, value)
    if db.session.scalar(select(Observation.id).where(Observation.fingerprint == fingerprint)):
        return Stored("duplicate")
    number = catalogue.as_number(value.value_text)
    normalised = catalogue.convert(number, value.unit, value.indicator) if number is not None else None
    flag, flag_source = _flag(value, number, normalised, patient)
    row = Observation(
        patient_id=patient.id, indicator_id=value.indicator.id, report_id=report_id,
        observed_at=value.observed_at, value=normalised, value_text=value.value_text.strip()[:80],
        reported_unit=catalogue.normalise_unit(value.unit)[:30], ref_low=value.ref_low, ref_high=value.ref_high,
        ref_text=value.ref_text[:80], flag=flag, flag_source=flag_source, status=value.status, origin=origin,
        fingerprint=fingerprint, entered_by=actor_id,
    )
    db.session.add(row)
    db.session.flush()
    earlier = select(Observation).where(
        Observation.patient_id == patient.id, Observation.indicator_id == value.indicator.id,
        Observation.observed_at == value.observed_at, Observation.superseded_by.is_(None),
        Observation.id != row.id)
    earlier = earlier.where(Observation.report_id == report_id) if report_id else earlier.where(
        Observation.report_id.is_(None))
    for previous in db.session.scalars(earlier):
        previous.superseded_by = row.id
    return Stored("new", row)


def _current_at(patient_id: int, code: str, at: datetime) -> Observation | None:
    return db.session.scalar(
        select(Observation).join(Indicator, (Indicator.id == Observation.indicator_id)
                                 & (Indicator.tenant_id == Observation.tenant_id))
        .where(Observation.patient_id == patient_id, Indicator.code == code, Observation.observed_at == at,
               Observation.superseded_by.is_(None), Observation.value.is_not(None))
        .order_by(Observation.id.desc()).limit(1))


def indicator_by_code(code: str) -> Indicator | None:
    return db.session.scalar(select(Indicator).where(Indicator.code == code))


def derive(patient, at: datetime, *, report_id: int | None = None) -> list[Observation]:
    """BMI from height and weight, eGFR from creatinine, at one time."""
    made = []
    height, weight = _current_at(patient.id, derived.HEIGHT_CODE, at), _current_at(patient.id, derived.WEIGHT_CODE, at)
    bmi_indicator = indicator_by_code(derived.BMI_CODE)
    if height and weight and bmi_indicator and not _current_at(patient.id, derived.BMI_CODE, at):
        value = derived.bmi(height.value, weight.value)
        if value:
            made.append(_store_computed(patient, bmi_indicator, value, at, report_id))
    creatinine = _current_at(patient.id, derived.CREATININE_CODE, at)
    egfr_indicator = indicator_by_code(derived.EGFR_CODE)
    if creatinine and egfr_indicator and not _current_at(patient.id, derived.EGFR_CODE, at):
        value = derived.egfr_ckd_epi_2021(creatinine.value, derived.age_on(patient.birth_date, at.date()),
                                          patient.sex)
        if value:
            made.append(_store_computed(patient, egfr_indicator, value, at, report_id))
    return [m for m in made if m is not None]


def _store_computed(patient, indicator: Indicator, value: float, at: datetime, report_id) -> Observation | None:
    text = f"{value:.{indicator.decimals}f}"
    return store(patient, Value(indicator, text, indicator.unit, at), report_id=report_id,
                 origin="computed").observation


def history(patient_id: int) -> list[tuple[Observation, Indicator]]:
    """Every current value of a patient, oldest first."""
    rows = db.session.execute(
        select(Observation, Indicator)
        .join(Indicator, (Indicator.id == Observation.indicator_id) & (Indicator.tenant_id == Observation.tenant_id))
        .where(Observation.patient_id == patient_id, Observation.superseded_by.is_(None))
        .order_by(Observation.observed_at, Indicator.group, Indicator.code))
    return [(obs, ind) for obs, ind in rows]


def previous_value(patient_id: int, indicator_id: int, before: datetime) -> Observation | None:
    return db.session.scalar(
        select(Observation).where(Observation.patient_id == patient_id, Observation.indicator_id == indicator_id,
                                  Observation.observed_at < before, Observation.superseded_by.is_(None))
        .order_by(Observation.observed_at.desc()).limit(1))
