"""Assessments follow the data: a patient's results, health history, card
(sex, birth date) or a submitted questionnaire changed, or a card was
opened, so their models are computed again. New results recompute only the
models with an input read from one of the results' indicator codes, and a
submitted questionnaire only the models that read its answers (results-stored
says the codes, questionnaire-submitted the questionnaire): a PHQ-9 or a
blood pressure does not run the models that read neither.

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
from collections.abc import Iterable

from app.core import events, txn
from app.patients import services as patients
from app.questionnaires import services as questionnaires
from app.records import services as records
from app.risk import assessments, jobs
from app.risk.definitions import models_reading
from tenants.context import tenant_context
from tenants.db import db

CARD_FIELDS = {"sex", "birth_date"}
IN_TRANSACTION_LIMIT = 50


def recompute_later(tenant_id: int, patient_id: int, models: Iterable[str] | None = None) -> None:
    """Assess the patient again before the commit: these models (None: every model)."""
    txn.gather(_recompute_gathered, (tenant_id, int(patient_id), None if models is None else frozenset(models)),
               key="risk:recompute")


def _recompute_gathered(items: list[tuple]) -> None:
    by_clinic: dict[int, dict[int, frozenset | None]] = {}
    for tenant_id, patient_id, models in items:
        wanted = by_clinic.setdefault(tenant_id, {})
        earlier = wanted.get(patient_id, frozenset())
        wanted[patient_id] = None if models is None or earlier is None else earlier | models
    for tenant_id, wanted in by_clinic.items():
        if len(wanted) > IN_TRANSACTION_LIMIT:
            txn.after_commit(jobs.enqueue_recompute, tenant_id, list(wanted),
                             key=("risk:recompute-later", tenant_id))
            continue
        by_models: dict[frozenset | None, list[int]] = {}
        for patient_id, models in wanted.items():
            by_models.setdefault(models, []).append(patient_id)
        with tenant_context(tenant_id):
            for models, patient_ids in by_models.items():
                assessments.recompute(patient_ids, models)


def _results_stored(tenant_id: int, *, patient_ids: list[int], codes: list[str] | None = None, **_) -> None:
    if db.session().info.get(assessments.STORING):
        return  # our own results: recomputing now would read what we just wrote
    models = None if codes is None else models_reading(codes=codes)
    if models == []:
        return  # results no model reads
    for patient_id in patient_ids:
        recompute_later(tenant_id, patient_id, models)


def _patient_changed(tenant_id: int, *, patient_id: int, fields: list[str] | None = None, **_) -> None:
    if fields is not None and not CARD_FIELDS & set(fields):
        return  # the models read sex and age, not names, numbers or assignments
    recompute_later(tenant_id, patient_id)


def _response_submitted(tenant_id: int, *, patient_id: int, questionnaire_key: str, **_) -> None:
    models = models_reading(questionnaire=questionnaire_key)
    if models:  # its scores, stored as results, come through results-stored
        recompute_later(tenant_id, patient_id, models)


def _cards_merged(tenant_id: int, *, source_id: int, target_id: int, **_) -> None:
    """The merged card's assessments go (they are computed, not recorded); the kept card is assessed again."""
    assessments.forget(source_id)
    recompute_later(tenant_id, target_id)


def listen() -> None:
    events.connect(records.results_stored, _results_stored)
    events.connect(patients.card_opened, _patient_changed)
    events.connect(patients.history_changed, _patient_changed)
    events.connect(patients.card_changed, _patient_changed)
    events.connect(questionnaires.response_submitted, _response_submitted)
    events.connect(patients.cards_merged, _cards_merged)
