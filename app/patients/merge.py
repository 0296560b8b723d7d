"""Merging a self-registered card into an existing card.

A patient who booked online from a phone that matched no card got a card of
their own, marked self-registered. When the front desk finds (by the ID card
at check-in) that they already had a card, staff merge the self-registered
card into it: everything of the person moves to the existing card (orders,
results and reports, alerts, health history, tags, follow-ups, messages and
preferences, the portal account), in one transaction. Each capability moves
its own rows on the ``cards-merged`` signal and may refuse (MergeRefused)
when moving would break one of its rules. The merged card is kept, archived
and marked merged into the other, so its own history stays readable, and the
merge is audited on both cards. The caller commits.
"""
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from app.core import audit, events
from app.patients.models import HealthHistoryItem, Patient
from app.patients.signals import cards_merged, history_changed
from tenants.db import db
from tenants.models import utcnow


class MergeRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check(source: Patient, target: Patient) -> None:
    """Raise MergeRefused unless ``source`` may be merged into ``target``."""
    if source.id == target.id:
        raise MergeRefused(_("A card cannot be merged into itself."))
    if not source.self_registered or source.merged_into_id is not None:
        raise MergeRefused(_("Only a self-registered card whose identity is not yet checked can be merged."))
    if source.archived_at is not None:
        raise MergeRefused(_("This card is archived."))
    if target.archived_at is not None or target.merged_into_id is not None:
        raise MergeRefused(_("The card to keep is archived; restore it first."))


def merge(source: Patient, target: Patient, *, actor_id: int | None = None) -> None:
    """Move everything of ``source`` to ``target``; keep ``source`` archived,
    marked merged. Raises MergeRefused (the caller rolls back)."""
    check(source, target)
    db.session.execute(update(HealthHistoryItem).where(HealthHistoryItem.patient_id == source.id)
                       .values(patient_id=target.id).execution_options(synchronize_session=False))
    events.send(cards_merged, source_id=source.id, target_id=target.id)
    source.merged_into_id = target.id
    source.archived_at = utcnow()
    detail: dict[str, Any] = {"source_id": source.id, "source_card_no": source.card_no, "target_id": target.id,
                              "target_card_no": target.card_no}
    audit.record("cards_merged", patient_id=target.id, actor_id=actor_id, **detail)
    audit.record("cards_merged", patient_id=source.id, actor_id=actor_id, **detail)
    events.send(history_changed, patient_id=target.id)


def merge_candidates(source: Patient, limit: int = 10) -> list[Patient]:
    """Existing cards that may be the same person: the same ID number, or the
    same name and birth date, or the same mobile."""
    same = [Patient.mobile_index == source.mobile_index,
            (Patient.name == source.name) & (Patient.birth_date == source.birth_date)]
    if source.id_number_index:
        same.append(Patient.id_number_index == source.id_number_index)
    return list(db.session.scalars(select(Patient).where(
        Patient.id != source.id, Patient.archived_at.is_(None), Patient.merged_into_id.is_(None), or_(*same))
        .order_by(Patient.id).limit(limit)))
