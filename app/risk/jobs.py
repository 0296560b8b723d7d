"""RQ entry point: assessing the patients of a change too large to assess
inside its own transaction (an import of many reports)."""
import logging

from app.core import jobs as core_jobs
from app.risk import assessments
from tenants.context import tenant_context
from tenants.db import db

log = logging.getLogger(__name__)
QUEUE = "default"
BATCH = 500  # patients per job: one job's transaction stays short


def enqueue_recompute(tenant_id: int, patient_ids: list[int]) -> None:
    """Queue the patients' assessments in batches. A lost job is not fatal:
    the next change or ``flask risk recompute`` catches up."""
    for start in range(0, len(patient_ids), BATCH):
        try:
            core_jobs.queue(QUEUE).enqueue(recompute_job, tenant_id, patient_ids[start:start + BATCH],
                                           result_ttl=600, failure_ttl=86400)
        except Exception:
            log.exception("could not queue the risk assessment of %s patients", len(patient_ids[start:start + BATCH]))


def recompute_job(tenant_id: int, patient_ids: list[int]) -> dict:
    app = core_jobs._job_app()
    with app.app_context(), tenant_context(tenant_id):
        try:
            added = assessments.recompute(patient_ids)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return {"patients": len(patient_ids), "added": added}
