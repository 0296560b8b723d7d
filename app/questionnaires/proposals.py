"""The health-history updates an intake form proposes: staff accept or
decline each one, and the record keeps who did."""
from sqlalchemy import select

from app.core import audit, clock
from app.patients import services as patients
from app.questionnaires.models import HistoryProposal
from tenants.db import db

LIFESTYLE = ("smoking", "alcohol", "exercise")


def pending(patient_id: int) -> list[HistoryProposal]:
    return list(db.session.scalars(select(HistoryProposal).where(
        HistoryProposal.patient_id == patient_id, HistoryProposal.status == "pending")
        .order_by(HistoryProposal.response_id, HistoryProposal.id)))


def of_response(response_id: int) -> list[HistoryProposal]:
    return list(db.session.scalars(select(HistoryProposal).where(HistoryProposal.response_id == response_id)
                                   .order_by(HistoryProposal.id)))


def get(proposal_id: int) -> HistoryProposal | None:
    return db.session.scalar(select(HistoryProposal).where(HistoryProposal.id == proposal_id))


def decide(proposal: HistoryProposal, *, accept: bool, actor_id: int) -> bool:
    """Apply (or decline) one proposal; False if it was decided already. The caller commits."""
    if proposal.status != "pending":
        return False
    patient = patients.get(proposal.patient_id)
    if patient is None:
        return False
    value = proposal.value.get("value")
    if accept:
        if proposal.field in LIFESTYLE:
            current = {f: getattr(patient, f) for f in LIFESTYLE}
            current[proposal.field] = str(value)
            patients.set_lifestyle(patient, **current)
        elif proposal.field.startswith("history:"):
            patients.add_history(patient, kind=proposal.field.split(":", 1)[1], description=str(value)[:200],
                                 since_year=None, note="", actor_id=actor_id)
        else:
            return False
    proposal.status = "accepted" if accept else "declined"
    proposal.decided_by = actor_id
    proposal.decided_at = clock.utcnow()
    audit.record("questionnaire_history_confirmed", patient_id=patient.id, field=proposal.field,
                 accepted=accept)
    return True
