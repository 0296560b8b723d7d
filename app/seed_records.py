"""Demo exam results for the demo clinics: a few yearly checkups per patient,
so trends, flags and alerts have something to show. Synthetic values."""
import random
from datetime import date, time

from app.core import clock
from app.records import services

# code: (men's mean, women's mean, spread, decimals)
DEMO_VALUES = {
    "8480-6": (128, 120, 14, 0), "8462-4": (82, 76, 9, 0), "8867-4": (74, 76, 8, 0),
    "8302-2": (171, 159, 6, 1), "29463-7": (72, 58, 10, 1), "8280-0": (86, 78, 8, 1),
    "14771-0": (5.4, 5.2, 0.8, 2), "14647-2": (4.9, 4.8, 0.8, 2), "22748-8": (3.0, 2.9, 0.7, 2),
    "14646-4": (1.2, 1.4, 0.25, 2), "14927-8": (1.6, 1.3, 0.6, 2), "14682-9": (82, 62, 14, 0),
    "14933-6": (380, 300, 70, 0),
}


def seed_results(patient, rng: random.Random, doctor_id: int | None) -> None:
    patient.responsible_doctor_id = doctor_id
    checkups = rng.randint(1, 4)
    start_year = clock.today().year - checkups
    drift = rng.uniform(-0.05, 0.08)  # some patients worsen year by year
    for n in range(checkups):
        day = clock.at(date(start_year + n, rng.randint(3, 10), rng.randint(1, 28)), time(8, 30))
        fresh = []
        for code, (men, women, spread, decimals) in DEMO_VALUES.items():
            indicator = services.indicator_by_code(code)
            if indicator is None:  # the pack's indicators are installed with the clinic
                raise LookupError(f"indicator {code} is not in the catalogue")
            mean = men if patient.sex == "M" else women
            value = max(0.1, rng.gauss(mean * (1 + drift * n), spread))
            stored = services.store(patient, services.Value(indicator, f"{value:.{decimals}f}", indicator.unit, day),
                                    origin="import")
            if stored.observation:
                fresh.append(stored.observation)
        fresh.extend(services.derive(patient, day))
        if n == checkups - 1:
            services.alerts.raise_for(patient, fresh)
