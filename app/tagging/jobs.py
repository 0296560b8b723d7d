"""RQ entry points: one patient after their data changed; rules clinic-wide."""
import logging

from app.core import jobs as core_jobs
from app.tagging import services
from tenants.context import tenant_context
from tenants.db import db

log = logging.getLogger(__name__)
QUEUE = "default"


def enqueue_patient(tenant_id: int, patient_id: int) -> None:
    """Queue one patient's evaluation. A lost job is not fatal: the next
    change or a clinic-wide run (``flask tagging evaluate``) catches up."""
    try:
        core_jobs.queue(QUEUE).enqueue(evaluate_patient_job, tenant_id, patient_id, result_ttl=600,
                                       failure_ttl=86400)
    except Exception:
        log.exception("could not queue the tag evaluation of patient %s", patient_id)


def evaluate_patient_job(tenant_id: int, patient_id: int) -> dict:
    app = core_jobs._job_app()
    with app.app_context(), tenant_context(tenant_id):
        try:
            changes = services.evaluate_patient(patient_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return {"added": changes.added, "removed": changes.removed}


def evaluate_rules_job(progress, *, rule_ids: list[int] | None = None, patient_id=None) -> dict:
    """The tracked (JobRun) clinic-wide evaluation, one transaction per rule."""

    def step(done: int, total: int) -> None:
        progress(5 + int(90 * done / max(total, 1)))

    runs = services.evaluate_rules(rule_ids or None, progress=step, commit=True)
    message = "; ".join(f"{run.matched} (+{run.added} −{run.removed})" for run in runs)
    return {"message": message[:500]}
