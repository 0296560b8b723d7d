"""Results that wait: a filed report's results whose code is not mapped yet, that came without a
unit, or in a unit the catalogue cannot convert. The rest of the report is stored at once; these
wait per lab and code, and mapping the code on the lab codes page stores them."""
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.core.bulk import conflict_insert
from app.records.models import ExamReport, WaitingResult
from app.records.parsed import ParsedReport, ParsedResult, PatientRef
from tenants.db import db
from tenants.ids import new_id

UNMAPPED, NO_UNIT, BAD_UNIT = "unmapped", "no_unit", "unit"


@dataclass
class Held:
    result: ParsedResult
    reason: str


@dataclass
class Group:
    """The waiting results of one lab code: what the lab codes page lists."""

    sender: str
    code: str
    name: str
    unit: str
    reasons: list[str]
    count: int
    patients: int


def _encode(result: ParsedResult) -> dict:
    raw = dataclasses.asdict(result)
    raw["observed_at"] = result.observed_at.isoformat() if result.observed_at else None
    return raw


def _decode(raw: dict) -> ParsedResult:
    moment = raw.get("observed_at")
    return ParsedResult(**dict(raw, observed_at=datetime.fromisoformat(moment) if moment else None))


def _key(raw: dict) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def hold(report_row: ExamReport, patient_id: int, held: list[Held]) -> None:
    """Keep ``held`` for the report; a result sent again waits once."""
    if not held:
        return
    rows = []
    for item in held:
        raw = _encode(item.result)
        rows.append({"id": new_id(), "tenant_id": report_row.tenant_id, "report_id": report_row.id,
                     "patient_id": patient_id, "sender": report_row.sender[:120], "code": item.result.code[:80],
                     "name": item.result.name[:200], "unit": item.result.unit[:30], "reason": item.reason,
                     "result": raw, "key": _key(raw)})
    db.session.execute(conflict_insert(WaitingResult.__table__).values(rows)  # one statement for the report
                       .on_conflict_do_nothing(index_elements=["tenant_id", "report_id", "key"]))


def groups(limit: int = 200) -> list[Group]:
    """Waiting results by lab and code, the most waiting first."""
    rows = db.session.execute(
        select(WaitingResult.sender, WaitingResult.code, func.max(WaitingResult.name), func.max(WaitingResult.unit),
               func.count(), func.count(WaitingResult.patient_id.distinct()))
        .group_by(WaitingResult.sender, WaitingResult.code)
        .order_by(func.count().desc(), WaitingResult.sender, WaitingResult.code).limit(limit)).all()
    reasons: dict[tuple[str, str], list[str]] = {}
    for sender, code, reason in db.session.execute(
            select(WaitingResult.sender, WaitingResult.code, WaitingResult.reason).distinct()):
        reasons.setdefault((sender, code), []).append(reason)
    return [Group(sender, code, name, unit, sorted(reasons.get((sender, code), [])), count, patients)
            for sender, code, name, unit, count, patients in rows]


def count() -> int:
    return db.session.execute(select(func.count()).select_from(WaitingResult)).scalar_one()


def take(sender: str, code: str) -> list[tuple[int, ParsedReport]]:
    """Remove the waiting results of a lab code (``sender`` "" = every lab) and give them back as one
    report per exam report, to import again: what still cannot be stored waits again."""
    query = select(WaitingResult).where(func.lower(WaitingResult.code) == code.strip().lower())
    if sender.strip():
        query = query.where(func.lower(WaitingResult.sender) == sender.strip().lower())
    rows = list(db.session.scalars(query.order_by(WaitingResult.report_id, WaitingResult.id)))
    by_report: dict[int, list[WaitingResult]] = {}
    for row in rows:
        by_report.setdefault(row.report_id, []).append(row)
    out = []
    for report_id, items in by_report.items():
        report = db.session.scalar(select(ExamReport).where(ExamReport.id == report_id))
        if report is None:
            continue
        parsed = ParsedReport(source=report.source, source_key=report.source_key, label=report.label or report.title,
                              patient=PatientRef(), observed_at=report.observed_at, sender=report.sender,
                              title=report.title, results=[_decode(item.result) for item in items])
        out.append((items[0].patient_id, parsed))
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return out
