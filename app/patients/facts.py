"""What models read of many cards at once (sex, birth date, habits, health
history), as plain rows rather than whole cards: a clinic-wide run reads
every card, and loading each as an object (with its sealed identifiers)
would cost more than the models themselves.

A caller reading ids that follow each other (a clinic-wide run's set of
cards in id order) says ``ranged``: they are read as the range between the
smallest and the largest (one index range per query) and filtered here."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from app.patients.models import HealthHistoryItem, Patient
from tenants.db import db


@dataclass(frozen=True)
class Card:
    id: int
    sex: str
    birth_date: date
    smoking: str
    alcohol: str
    exercise: str


@dataclass(frozen=True)
class HistoryItem:
    id: int
    kind: str
    description: str
    created_at: datetime


def within(column, ids: list[int], ranged: bool = False):
    """A condition on ``column`` that holds for these ids (and, ``ranged``, for those between them)."""
    return column.between(min(ids), max(ids)) if ranged else column.in_(ids)


def cards(patient_ids: Iterable[int], *, ranged: bool = False) -> dict[int, Card]:
    """{id: Card} of these ids (those of this clinic), in one query."""
    wanted = set(patient_ids)
    if not wanted:
        return {}
    query = select(Patient.id, Patient.sex, Patient.birth_date, Patient.smoking, Patient.alcohol,
                   Patient.exercise).where(within(Patient.id, list(wanted), ranged))
    return {row.id: Card(row.id, row.sex, row.birth_date, row.smoking or "", row.alcohol or "", row.exercise or "")
            for row in db.session.execute(query) if row.id in wanted}


def history_items(patient_ids: Iterable[int], *, ranged: bool = False) -> dict[int, list[HistoryItem]]:
    """The health-history items of these patients, oldest first (every id has a list), in one query."""
    wanted = set(patient_ids)
    found: dict[int, list[HistoryItem]] = {pid: [] for pid in wanted}
    if not wanted:
        return found
    query = (select(HealthHistoryItem.patient_id, HealthHistoryItem.id, HealthHistoryItem.kind,
                    HealthHistoryItem.description, HealthHistoryItem.created_at)
             .where(within(HealthHistoryItem.patient_id, list(wanted), ranged))
             .order_by(HealthHistoryItem.created_at, HealthHistoryItem.id))
    for row in db.session.execute(query):
        if row.patient_id in wanted:
            found[row.patient_id].append(HistoryItem(row.id, row.kind, row.description, row.created_at))
    return found
