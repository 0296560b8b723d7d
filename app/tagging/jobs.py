"""RQ entry points: one patient after their data changed; rules clinic-wide."""
import logging

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

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


def evaluate_rules_job(progress, *, rule_ids: list[int] | None = None, patient_id=None,
                       locale: str = "zh_CN") -> dict:
    """The tracked (JobRun) clinic-wide evaluation, one transaction per rule;
    its outcome in words, in the language of whoever started it."""

    def step(done: int, total: int) -> None:
        progress(5 + int(90 * done / max(total, 1)))

    runs = services.evaluate_rules(rule_ids or None, progress=step, commit=True)
    with force_locale(locale):
        message = run_summary(runs)
    return {"message": message[:500]}


def run_summary(runs) -> str:
    """What a clinic-wide evaluation did: per rule for a few rules, in all for many."""
    if len(runs) > 3:
        return ngettext("%(num)d rule re-evaluated: %(added)d tags added, %(removed)d taken off.",
                        "%(num)d rules re-evaluated: %(added)d tags added, %(removed)d taken off.",
                        len(runs), added=sum(r.added for r in runs), removed=sum(r.removed for r in runs))
    return " ".join(ngettext("Rule “%(name)s”: %(num)d patient matches (%(added)d added, %(removed)d removed).",
                             "Rule “%(name)s”: %(num)d patients match (%(added)d added, %(removed)d removed).",
                             run.matched, name=run.name, added=run.added, removed=run.removed) for run in runs) \
        or _("No rule to evaluate.")
