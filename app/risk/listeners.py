"""Assessments follow the data: a patient's results, health history, card
(sex, birth date) or a submitted questionnaire changed, or a card was
opened, so their models are computed again.

The recomputation is gathered over the transaction and runs just before it
commits (app.core.txn.gather), inside it: the assessments and their
observations commit with the change that caused them, a page shown after the
change already shows them, and an import of many reports recomputes each
patient once, in sets. A transaction that touched more than
IN_TRANSACTION_LIMIT patients (a large import) leaves them to background jobs
after it commits, so the import's own transaction stays as quick as before.
Results stored by the recomputation itself (the models' own observations)
send results-stored again; those are ignored, so a recomputation never feeds
itself.
"""
from app.core import events, txn
from app.patients import services as patients
from app.questionnaires import services as questionnaires
from app.records import services as records
from app.risk import assessments, jobs
from tenants.context import tenant_context
from tenants.db import db

CARD_FIELDS = {"sex", "birth_date"}
IN_TRANSACTION_LIMIT = 50


def recompute_later(tenant_id: int, patient_id: int) -> None:
    txn.gather(_recompute_gathered, (tenant_id, int(patient_id)), key="risk:recompute")


def _recompute_gathered(items: list[tuple[int, int]]) -> None:
    by_clinic: dict[int, list[int]] = {}
    for tenant_id, patient_id in items:
        by_clinic.setdefault(tenant_id, []).append(patient_id)
    for tenant_id, patient_ids in by_clinic.items():
        unique = list(dict.fromkeys(patient_ids))
        if len(unique) > IN_TRANSACTION_LIMIT:
            txn.after_commit(jobs.enqueue_recompute, tenant_id, unique, key=("risk:recompute-later", tenant_id))
            continue
        with tenant_context(tenant_id):
            assessments.recompute(unique)


def _results_stored(tenant_id: int, *, patient_ids: list[int], **_) -> None:
    if db.session().info.get(assessments.STORING):
        return  # our own results: recomputing now would read what we just wrote
    for patient_id in patient_ids:
        recompute_later(tenant_id, patient_id)


def _patient_changed(tenant_id: int, *, patient_id: int, fields: list[str] | None = None, **_) -> None:
    if fields is not None and not CARD_FIELDS & set(fields):
        return  # the models read sex and age, not names, numbers or assignments
    recompute_later(tenant_id, patient_id)


def _cards_merged(tenant_id: int, *, source_id: int, target_id: int, **_) -> None:
    """The merged card's assessments go (they are computed, not recorded); the kept card is assessed again."""
    assessments.forget(source_id)
    recompute_later(tenant_id, target_id)


def listen() -> None:
    events.connect(records.results_stored, _results_stored)
    events.connect(patients.card_opened, _patient_changed)
    events.connect(patients.history_changed, _patient_changed)
    events.connect(patients.card_changed, _patient_changed)
    events.connect(questionnaires.response_submitted, _patient_changed)
    events.connect(patients.cards_merged, _cards_merged)
