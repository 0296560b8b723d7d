"""Stage summaries: a period is chosen, CareLoop drafts the text (summary_draft), a doctor edits and signs
it. A signed version is locked; a change is a new version of the same chain with its reason."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit, clock
from app.core.errors import FieldErrors
from app.interventions import services as interventions
from app.records import services as records
from app.reports import summary_draft
from app.reports.models import StageSummary
from tenants.db import db
from tenants.ids import new_id
from tenants.models import utcnow

KINDS = ("since_last", "year", "plan", "custom")
MAX_TEXT, MAX_REASON = 20_000, 300


class SummaryLocked(ValueError):
    """A signed version is not changed."""


@dataclass
class Period:
    kind: str
    start: date
    end: date
    plan_id: int | None = None


def get(summary_id: int, patient_id: int, *, for_update: bool = False) -> StageSummary | None:
    query = select(StageSummary).where(StageSummary.id == summary_id, StageSummary.patient_id == patient_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def of_patient(patient_id: int) -> list[StageSummary]:
    """Every version, newest period first, each chain's versions newest first."""
    return list(db.session.scalars(select(StageSummary).where(StageSummary.patient_id == patient_id)
                                   .order_by(StageSummary.period_end.desc(), StageSummary.chain_id.desc(),
                                             StageSummary.version.desc())))


def versions(summary: StageSummary) -> list[StageSummary]:
    return list(db.session.scalars(select(StageSummary).where(StageSummary.chain_id == summary.chain_id)
                                   .order_by(StageSummary.version.desc())))


def latest_signed(patient_id: int, *, on_or_before: date | None = None) -> StageSummary | None:
    """The newest signed version whose period ended by ``on_or_before`` (the newest of all without it)."""
    query = select(StageSummary).where(StageSummary.patient_id == patient_id, StageSummary.status == "signed")
    if on_or_before is not None:
        query = query.where(StageSummary.period_end <= on_or_before)
    return db.session.scalar(query.order_by(StageSummary.period_end.desc(), StageSummary.signed_at.desc()).limit(1))


def signed_covering(patient_id: int, day: date) -> StageSummary | None:
    """The newest signed version whose period holds ``day`` (what a printed report of that day shows)."""
    return db.session.scalar(select(StageSummary).where(
        StageSummary.patient_id == patient_id, StageSummary.status == "signed", StageSummary.period_start <= day,
        StageSummary.period_end >= day).order_by(StageSummary.signed_at.desc()).limit(1))


def period_for(patient_id: int, kind: str, *, plan_id: int | None = None, start: date | None = None,
               end: date | None = None) -> Period:
    """The period a choice names, ending today at the latest; FieldErrors name the field that is wrong."""
    today = clock.today()
    if kind == "year":
        return Period(kind, today - timedelta(days=364), today)
    if kind == "since_last":
        last = latest_signed(patient_id)
        if last is not None:
            return Period(kind, min(last.period_end + timedelta(days=1), today), today)
        history = records.history(patient_id)
        return Period(kind, clock.local_date(history[0][0].observed_at) if history else today, today)
    if kind == "plan":
        plan = interventions.get_plan(plan_id) if plan_id else None
        if plan is None or plan.patient_id != patient_id:
            raise FieldErrors({"plan_id": _("Choose one of the patient's plans.")})
        return Period(kind, plan.start_date, min(plan.end_date, today), plan.id)
    if kind == "custom":
        errors = {}
        if start is None:
            errors["start"] = _("Enter the first day of the period.")
        if end is None:
            errors["end"] = _("Enter the last day of the period.")
        elif end > today:
            errors["end"] = _("The period cannot end after today.")
        if start is not None and end is not None and start > end:
            errors["start"] = _("The first day must come before the last.")
        if errors:
            raise FieldErrors(errors)
        return Period(kind, start, end)  # type: ignore[arg-type]  # both checked above
    raise FieldErrors({"kind": _("Choose a period.")})


def start_draft(patient, period: Period, *, actor_id: int | None) -> StageSummary:
    """A new chain's first version, drafted from the period's data. The caller commits."""
    locale = patient.preferred_locale or "zh_CN"
    text = summary_draft.draft(patient, period.start, period.end, locale)
    first = new_id()  # the chain is named by its first version's id, known before the insert
    summary = StageSummary(id=first, patient_id=patient.id, chain_id=first, version=1, period_kind=period.kind,
                           plan_id=period.plan_id, period_start=period.start, period_end=period.end, locale=locale,
                           draft_text=text, text=text, created_by=actor_id)
    db.session.add(summary)
    db.session.flush()
    audit.record("summary_drafted", patient_id=patient.id, summary_id=summary.id,
                 period=f"{period.start.isoformat()}..{period.end.isoformat()}")
    return summary


def _checked_text(text: str, field: str = "text") -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise FieldErrors({field: _("The summary cannot be empty.")})
    if len(text) > MAX_TEXT:
        raise FieldErrors({field: _("The summary is too long (at most %(n)d characters).", n=MAX_TEXT)})
    return text


def save_text(summary: StageSummary, text: str) -> None:
    summary = get(summary.id, summary.patient_id, for_update=True) or summary
    if summary.status != "draft":
        raise SummaryLocked(summary.id)
    summary.text, summary.updated_at = _checked_text(text), utcnow()


def sign(summary: StageSummary, text: str | None, *, actor_id: int | None) -> bool:
    """Sign the draft (with the text as sent, when given); False when it was signed already."""
    summary = get(summary.id, summary.patient_id, for_update=True) or summary
    if summary.status == "signed":
        return False
    if text is not None:
        summary.text = _checked_text(text)
    summary.status, summary.signed_by, summary.signed_at = "signed", actor_id, utcnow()
    summary.updated_at = summary.signed_at
    audit.record("summary_signed", patient_id=summary.patient_id, summary_id=summary.id, version=summary.version)
    return True


def amend(summary: StageSummary, reason: str, *, actor_id: int | None) -> StageSummary:
    """The next version of a signed summary, a draft with the signed text and the reason; the open draft
    when there is one already. The caller commits."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise FieldErrors({"reason": _("Say why the signed summary changes.")})
    if len(reason) > MAX_REASON:
        raise FieldErrors({"reason": _("Keep the reason under %(n)d characters.", n=MAX_REASON)})
    chain = versions(summary)
    if any(v.status == "draft" for v in chain):
        return next(v for v in chain if v.status == "draft")
    newest = chain[0]
    following = StageSummary(patient_id=newest.patient_id, chain_id=newest.chain_id, version=newest.version + 1,
                             period_kind=newest.period_kind, plan_id=newest.plan_id,
                             period_start=newest.period_start, period_end=newest.period_end, locale=newest.locale,
                             draft_text=newest.draft_text, text=newest.text, reason=reason, created_by=actor_id)
    db.session.add(following)
    db.session.flush()
    audit.record("summary_amended", patient_id=newest.patient_id, summary_id=following.id,
                 version=following.version, reason=reason)
    return following
