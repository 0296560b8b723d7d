"""The population view: patients by model and band from their current
assessments, with the band each had before, filtered by band, by a change
since the previous assessment, by inputs missing and by following no
follow-up plan. One query for a page, one for the counts per band."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import aliased

from app.core import clock
from app.followups import services as followups
from app.patients import services as patients
from app.risk import reading
from app.risk.definitions import all_models
from app.risk.models import RiskAssessment
from tenants.context import require_tenant_id
from tenants.db import db

DEFAULT_MODEL = "framingham_cvd"
CHANGES = ("", "up", "any")
MISSING = "missing"   # the band filter's value for "not assessed: an input is missing"


@dataclass(frozen=True)
class Filters:
    model: str = DEFAULT_MODEL
    band: str = ""          # a band code, MISSING or "" (all)
    changed: str = ""       # "", "up" (band went up) or "any" (band changed)
    unplanned: bool = False  # following no active follow-up plan

    @classmethod
    def of(cls, args) -> "Filters":
        model = args.get("model", "")
        definition = all_models().get(model) or all_models()[DEFAULT_MODEL]
        band = args.get("band", "")
        known = {b["code"] for b in definition["bands"]} | {MISSING}
        changed = args.get("changed", "")
        return cls(definition["id"], band if band in known else "", changed if changed in CHANGES else "",
                   args.get("unplanned") == "1")

    def as_args(self) -> dict:
        return {"model": self.model, "band": self.band or None, "changed": self.changed or None,
                "unplanned": 1 if self.unplanned else None}


@dataclass
class Row:
    patient_id: int
    name: str
    card_no: str
    value: str
    band: str
    since: date
    previous: str
    needed: list[str] = field(default_factory=list)


@dataclass
class Page:
    rows: list[Row]
    page: int
    has_next: bool


def _rank(definition: dict, column):
    """A band's place in the model's order (bands are declared lowest first)."""
    return case({b["code"]: n for n, b in enumerate(definition["bands"])}, value=column, else_=None)


def _listed(filters: Filters):
    """The current assessments the filters keep, with the patient and the previous band."""
    definition = all_models()[filters.model]
    tenant_id = require_tenant_id()
    Patient = patients.Patient  # noqa: N806  (read in this query)
    current, earlier = RiskAssessment, aliased(RiskAssessment)
    previous = (select(earlier.band).where(
        earlier.tenant_id == current.tenant_id, earlier.patient_id == current.patient_id,
        earlier.model == current.model, ~earlier.is_current)
        .order_by(earlier.computed_at.desc(), earlier.id.desc()).limit(1).correlate(current))
    had_one = previous.with_only_columns(literal(1)).exists()
    previous_band = previous.scalar_subquery()
    query = (select(current, Patient.name, Patient.card_no, previous_band.label("previous"))
             .join(Patient, and_(Patient.tenant_id == current.tenant_id, Patient.id == current.patient_id))
             .where(current.tenant_id == tenant_id, current.model == filters.model, current.is_current,
                    Patient.archived_at.is_(None)))
    if filters.band == MISSING:
        query = query.where(current.status == "missing")
    elif filters.band:
        query = query.where(current.band == filters.band, current.status == "ok")
    if filters.changed == "any":
        query = query.where(had_one, previous_band.is_distinct_from(current.band))
    elif filters.changed == "up":
        query = query.where(_rank(definition, current.band) > _rank(definition, previous_band))
    if filters.unplanned:
        query = query.where(~followups.following_a_plan(current.patient_id, current.tenant_id))
    return query


def page_of(filters: Filters, *, page: int, page_size: int) -> Page:
    definition = all_models()[filters.model]
    query = (_listed(filters).order_by(RiskAssessment.value.desc().nulls_last(), RiskAssessment.patient_id)
             .offset((page - 1) * page_size).limit(page_size + 1))
    rows = []
    for row, name, card_no, previous in db.session.execute(query).tuples():
        view = reading.shown(definition, row)
        rows.append(Row(row.patient_id, name, card_no, view.value, view.band,
                        clock.local_date(row.computed_at), reading.band_words(definition, previous), view.needed))
    return Page(rows[:page_size], page, len(rows) > page_size)


def patient_ids(filters: Filters) -> list[int]:
    """Every patient the filters list (all pages): whom the enrol action enrols."""
    return list(db.session.scalars(_listed(filters).with_only_columns(RiskAssessment.patient_id)
                                   .order_by(RiskAssessment.patient_id)))


@dataclass
class Count:
    code: str        # a band code or MISSING
    label: str
    patients: int


def counts(model: str) -> list[Count]:
    """How many patients' current assessment is in each band of the model, and how many lack an input."""
    definition = all_models()[model]
    Patient = patients.Patient  # noqa: N806  (read in this query)
    band = case((RiskAssessment.status == MISSING, literal(MISSING)), else_=RiskAssessment.band)
    found = dict(db.session.execute(
        select(band, func.count())
        .join(Patient, and_(Patient.tenant_id == RiskAssessment.tenant_id, Patient.id == RiskAssessment.patient_id))
        .where(RiskAssessment.tenant_id == require_tenant_id(), RiskAssessment.model == model,
               RiskAssessment.is_current, RiskAssessment.status.in_(("ok", MISSING)), Patient.archived_at.is_(None))
        .group_by(band)).tuples().all())
    shown = [Count(b["code"], reading.band_words(definition, b["code"]), found.get(b["code"], 0))
             for b in definition["bands"]]
    return shown + [Count(MISSING, "", found.get(MISSING, 0))]
