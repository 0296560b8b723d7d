"""Demo exam results for the demo clinics: a few yearly checkups per patient,
so trends, flags and alerts have something to show. Synthetic values, made to
look like one person's over the years: each patient starts from a baseline
that suits their sex and age and drifts slowly from checkup to checkup (a
random walk with small steps, from the seeded generator, so a seed gives the
same data every time). An adult's height stays within half a centimetre of
itself; weight, waist and BMI move together; a few patients' latest checkup
holds a clearly critical value, so the critical tier has something to show.
"""
import math
import random
from dataclasses import dataclass
from datetime import date, time, timedelta

from app.core import clock
from app.records import services

HEIGHT, WEIGHT, WAIST = "8302-2", "29463-7", "8280-0"
SYSTOLIC, DIASTOLIC, PULSE = "8480-6", "8462-4", "8867-4"
GLUCOSE, CHOLESTEROL, LDL, HDL, TRIGLYCERIDES = "14771-0", "14647-2", "22748-8", "14646-4", "14927-8"
CREATININE, URIC_ACID, ALT, HAEMOGLOBIN, POTASSIUM = "14682-9", "14933-6", "1742-6", "718-7", "2823-3"

# The clearly critical results some patients' latest checkup holds, by scenario (their earlier checkups
# lead up to them). Potassium only where the catalogue has it.
CRITICAL_SCENARIOS = ("blood_pressure", "potassium", "glucose")
CRITICAL_VALUES = {"blood_pressure": {SYSTOLIC: 186.0, DIASTOLIC: 112.0},
                   "potassium": {POTASSIUM: 6.8},
                   "glucose": {GLUCOSE: 13.2}}

# Year-to-year steps (standard deviations of the random walk) and the noise of one measurement.
STEP = {SYSTOLIC: 3.0, DIASTOLIC: 2.0, PULSE: 2.0, WEIGHT: 1.2, GLUCOSE: 0.15, CHOLESTEROL: 0.2, LDL: 0.15,
        HDL: 0.05, TRIGLYCERIDES: 0.15, CREATININE: 3.0, URIC_ACID: 15.0, ALT: 3.0, HAEMOGLOBIN: 3.0,
        POTASSIUM: 0.1}
NOISE = {SYSTOLIC: 5.0, DIASTOLIC: 3.5, PULSE: 5.0, WEIGHT: 0.4, GLUCOSE: 0.2, CHOLESTEROL: 0.15, LDL: 0.12,
         HDL: 0.06, TRIGLYCERIDES: 0.2, CREATININE: 4.0, URIC_ACID: 20.0, ALT: 4.0, HAEMOGLOBIN: 4.0,
         POTASSIUM: 0.15}
# Where the walk may go: a baseline never wanders past these in a few years of demo data.
BOUNDS = {SYSTOLIC: (95, 165), DIASTOLIC: (58, 102), PULSE: (55, 95), GLUCOSE: (4.2, 9.5), CHOLESTEROL: (3.2, 7.2),
          LDL: (1.5, 5.0), HDL: (0.7, 2.2), TRIGLYCERIDES: (0.5, 4.5), CREATININE: (45, 130), URIC_ACID: (180, 560),
          ALT: (8, 80), HAEMOGLOBIN: (105, 175), POTASSIUM: (3.5, 5.2)}


@dataclass
class Person:
    """One patient's underlying values, which drift between checkups."""
    height: float
    bmi: float
    levels: dict[str, float]


def _clip(code: str, value: float) -> float:
    low, high = BOUNDS[code]
    return min(high, max(low, value))


def baseline(rng: random.Random, sex: str, age: int) -> Person:
    """Plausible starting values for a Chinese adult of this sex and age."""
    male = sex == "M"
    older = max(0, age - 40)
    height = rng.gauss(171.0 if male else 159.5, 5.5) - 0.06 * older  # older cohorts are a little shorter
    bmi = min(33.0, max(18.8, rng.gauss(24.3 if male else 23.2, 2.6)))
    systolic = rng.gauss((116 if male else 110) + 0.55 * max(0, age - 30), 9)
    levels = {
        SYSTOLIC: systolic,
        DIASTOLIC: 0.42 * systolic + rng.gauss(24 if male else 22, 4),
        PULSE: rng.gauss(73, 6),
        GLUCOSE: rng.gauss(5.0 + 0.012 * older, 0.45),
        CHOLESTEROL: rng.gauss(4.7 + 0.008 * older, 0.6),
        HDL: rng.gauss(1.2 if male else 1.45, 0.22),
        TRIGLYCERIDES: math.exp(rng.gauss(math.log(1.45 if male else 1.15), 0.35)),
        CREATININE: rng.gauss((80 if male else 60) + 0.2 * older, 9),
        URIC_ACID: rng.gauss(375 if male else 290, 50),
        ALT: math.exp(rng.gauss(math.log(24 if male else 17), 0.3)),
        HAEMOGLOBIN: rng.gauss(148 if male else 128, 8),
        POTASSIUM: rng.gauss(4.2, 0.25),
    }
    levels[LDL] = levels[CHOLESTEROL] * 0.6 + rng.gauss(0, 0.2)
    return Person(height, bmi, {code: _clip(code, value) for code, value in levels.items()})


def _walk(rng: random.Random, person: Person, trend: float) -> None:
    """One year on: every level takes a small step (some patients worsen a little each year)."""
    for code, level in person.levels.items():
        push = trend * {SYSTOLIC: 1.5, DIASTOLIC: 0.8, GLUCOSE: 0.08, TRIGLYCERIDES: 0.06, URIC_ACID: 5}.get(code, 0)
        person.levels[code] = _clip(code, level + push + rng.gauss(0, STEP[code]))
    person.bmi = min(34.0, max(18.5, person.bmi + trend * 0.15 + rng.gauss(0, STEP[WEIGHT]) / person.height ** 2
                                 * 10_000))


def measured(rng: random.Random, person: Person, sex: str) -> dict[str, float]:
    """What one checkup measures: the person's levels with measurement noise."""
    metres = person.height / 100
    weight = person.bmi * metres * metres + rng.gauss(0, NOISE[WEIGHT])
    values = {HEIGHT: person.height + rng.uniform(-0.4, 0.4),  # an adult does not grow: within a centimetre
              WEIGHT: weight,
              WAIST: (2.3 * person.bmi + (31 if sex == "M" else 24)) + rng.gauss(0, 1.5)}
    for code, level in person.levels.items():
        values[code] = max(0.1, level + rng.gauss(0, NOISE[code]))
    values[DIASTOLIC] = min(values[DIASTOLIC], values[SYSTOLIC] - 25)
    return values


def _checkup_days(rng: random.Random, checkups: int) -> list[date]:
    """About a year apart, the latest within the past year (so risk models find recent enough inputs)."""
    latest = clock.today() - timedelta(days=rng.randint(20, 300))
    days = [latest]
    for _ in range(checkups - 1):
        days.insert(0, days[0] - timedelta(days=rng.randint(330, 400)))
    return days


def seed_results(patient, rng: random.Random, doctor_id: int | None, critical: str | None = None,
                 indicators: dict | None = None) -> None:
    """A few yearly checkups; ``critical`` (one of CRITICAL_SCENARIOS) makes the latest one hold a clearly
    critical value. ``indicators`` caches the catalogue by code across patients."""
    indicators = {} if indicators is None else indicators

    def indicator(code: str):
        if code not in indicators:
            indicators[code] = services.indicator_by_code(code)
        return indicators[code]

    patient.responsible_doctor_id = doctor_id
    checkups = rng.randint(2, 5)
    days = _checkup_days(rng, checkups)
    person = baseline(rng, patient.sex, clock.age(patient.birth_date, days[0]))
    trend = rng.choice((0.0, 0.0, 0.5, 1.0))  # some patients worsen year by year
    if critical == "potassium" and indicator(POTASSIUM) is None:
        critical = "blood_pressure"  # a catalogue without potassium: show a critical blood pressure instead
    for n in range(checkups):
        if n:
            _walk(rng, person, trend)
        day = clock.at(days[n], time(8, 30))
        values = measured(rng, person, patient.sex)
        if critical and n == checkups - 1:
            values.update(CRITICAL_VALUES[critical])
        elif critical and n == checkups - 2:  # on the way there
            for code, value in CRITICAL_VALUES[critical].items():
                values[code] = (values[code] + value) / 2
        checkup = []
        for code, value in values.items():
            entry = indicator(code)
            if entry is None:
                if code == POTASSIUM:
                    continue  # not every catalogue has it
                raise LookupError(f"indicator {code} is not in the catalogue")  # the pack installs the others
            checkup.append(services.Value(entry, f"{value:.{entry.decimals}f}", entry.unit, day))
        fresh = [stored.observation for stored in services.store_many(patient, checkup, origin="import")
                 if stored.observation]
        fresh.extend(services.derive(patient, day, indicator=indicator))
        if n == checkups - 1:
            services.alerts.raise_for(patient, fresh)
    for earlier in days[:-1]:  # the doctor released the earlier checkups; the newest waits for them
        services.releases.release(patient, earlier, mode="doctor", actor_id=doctor_id, tell=False)
