"""What the home page shows, gathered from the capabilities' services."""
from dataclasses import dataclass

from app.patients import services as patients


@dataclass
class Home:
    patient_count: int
    recent: list


def for_staff() -> Home:
    return Home(patient_count=patients.count_active(), recent=patients.recent())
