"""Patients' portal accounts: signing in with a code, finding or opening
their card, and their orders. No request objects here; the session (a
server-side one, app/core/sessions.py) is app/portal/session.py."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.booking import services as booking
from app.core import audit, crypto, events, sessions
from app.patients import services as patients
from app.portal import otp
from app.portal.models import PortalAccount
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import utcnow

SigninRefused = otp.SigninRefused
request_code = otp.request_code


def sign_in(raw_mobile: str, code: str, ip: str, *, now: datetime | None = None) -> PortalAccount:
    """Verify the code and return the number's account (made on first
    sign-in). The account is linked to the card whose mobile on file is this
    number, when exactly one card has it; a link to a card that no longer has
    this number ends."""
    index = otp.verify(raw_mobile, code, ip, now=now)
    mobile = otp.normalise(raw_mobile)
    account = db.session.scalar(select(PortalAccount).where(PortalAccount.mobile_index == index))
    if account is None:
        account = PortalAccount(mobile_index=index, mobile_enc=crypto.encrypt(mobile, require_tenant_id()))
        try:
            with db.session.begin_nested():
                db.session.add(account)
        except IntegrityError:  # the same number signed in twice at once
            account = db.session.scalar(select(PortalAccount).where(PortalAccount.mobile_index == index))
            if account is None:  # another conflict than the number's
                raise
    if account.patient_id is not None and patient_of(account) is None:
        unlink(account, "card_mobile_changed")
    if account.patient_id is None:
        link_by_mobile(account)
    account.last_signin_at = now or utcnow()
    audit.record("portal_sign_in", patient_id=account.patient_id, account_id=account.id)
    return account


# ------------------------------------------------------------------ links
# The portal identity is the verified mobile number: an account is linked
# only to a card whose mobile on file is the account's number. Every link and
# unlink is audited; an unlink also ends the account's sessions.

def link(account: PortalAccount, patient, reason: str) -> None:
    if patient.mobile_index != account.mobile_index:
        raise ValueError("a portal account is linked only to a card with its own mobile number")
    account.patient_id = patient.id
    audit.record("portal_linked", patient_id=patient.id, account_id=account.id, reason=reason)


def unlink(account: PortalAccount, reason: str) -> None:
    """End the account's link and every session it has."""
    before, account.patient_id = account.patient_id, None
    sign_out_everywhere(account)
    audit.record("portal_unlinked", patient_id=before, account_id=account.id, reason=reason)


def _cards_with_number(account: PortalAccount) -> list:
    return list(db.session.scalars(select(patients.Patient).where(
        patients.Patient.mobile_index == account.mobile_index, patients.Patient.archived_at.is_(None))
        .order_by(patients.Patient.id).limit(2)))


def link_by_mobile(account: PortalAccount) -> None:
    """Link the account to the one card with its number, if exactly one has it."""
    cards = _cards_with_number(account)
    if len(cards) == 1:
        link(account, cards[0], "mobile")


def account_by_index(index: str) -> PortalAccount | None:
    return db.session.scalar(select(PortalAccount).where(PortalAccount.mobile_index == index))


def _linked_to(patient_id: int) -> list[PortalAccount]:
    return list(db.session.scalars(select(PortalAccount).where(PortalAccount.patient_id == patient_id)))


def _card_changed(_tenant_id: int, *, patient_id: int, fields: list[str], **_signal) -> None:
    """A card's mobile changed: the old number's account loses the card (and
    its sessions); the new number's account, if it has none, gets it."""
    if "mobile" not in fields:
        return
    patient = patients.get(patient_id)
    if patient is None:
        return
    for account in _linked_to(patient_id):
        if account.mobile_index != patient.mobile_index:
            unlink(account, "card_mobile_changed")
    newcomer = account_by_index(patient.mobile_index)
    if newcomer is not None and newcomer.patient_id is None:
        link_by_mobile(newcomer)


def _cards_merged(_tenant_id: int, *, source_id: int, target_id: int, **_signal) -> None:
    """The merged card's account moves to the kept card when the kept card
    has its number; otherwise the link ends (staff edit the kept card's
    mobile to give that number the card)."""
    target = patients.get(target_id)
    for account in _linked_to(source_id):
        if target is not None and account.mobile_index == target.mobile_index:
            link(account, target, "cards_merged")
        else:
            unlink(account, "cards_merged")


def listen() -> None:
    events.connect(patients.card_changed, _card_changed)
    events.connect(patients.cards_merged, _cards_merged)


# --------------------------------------------------------------- sessions

def get_account(account_id: int) -> PortalAccount | None:
    """The account a portal session belongs to (in this clinic only), read
    on every request: an account whose card no longer has its number is
    refused (signing in again sorts the link out)."""
    account = db.session.scalar(select(PortalAccount).where(PortalAccount.id == account_id))
    if account is not None and account.patient_id is not None and patient_of(account) is None:
        return None
    return account


def sign_out_everywhere(account: PortalAccount) -> None:
    """End every session of the account (the caller commits)."""
    sessions.end_all("portal", account.id, reason="signed_out")


def mobile_of(account: PortalAccount) -> str:
    return crypto.decrypt(account.mobile_enc, account.tenant_id) or ""


def patient_of(account: PortalAccount):
    """The account's card, only while the card's mobile on file is the
    account's number (and the card is not merged away)."""
    if not account.patient_id:
        return None
    patient = patients.get(account.patient_id)
    if patient is None or patient.mobile_index != account.mobile_index or patient.merged_into_id is not None:
        return None
    return patient


def _same_person(patient, data: patients.PatientData) -> bool:
    return (patient.name == data.name and patient.birth_date == data.birth_date and patient.sex == data.sex)


def confirm_details(account: PortalAccount, data: patients.PatientData, *, consent_version: str):
    """The patient card for this account: the linked one; else the card with
    this number and the same name, sex and birth date (several cards may
    share a number: a parent's phone on a child's card); else a new,
    self-registered card from the details, validated as staff enrolment does.
    An ID number typed here never finds a card: the identity is the number.
    Raises patients.PatientError naming the bad fields (about what was
    typed, never about other cards)."""
    linked = patient_of(account)
    if linked is not None:
        return linked
    data.mobile = mobile_of(account)
    data.source_channel = "online"
    data = patients.validate(data)
    match = next((p for p in patients.search(data.mobile).patients if _same_person(p, data)), None)
    if match is not None:
        link(account, match, "details_on_card_with_number")
        return match
    card = patients.enrol_online(data, consent_version=consent_version)
    link(account, card, "self_registered")
    return card


def orders(account: PortalAccount) -> list:
    return booking.orders.of_patient(account.patient_id) if account.patient_id else []


def order_of(account: PortalAccount | None, order_id: int):
    """The account's own order, or None (another patient's order is not found)."""
    if account is None or account.patient_id is None:
        return None
    order = booking.get_order(order_id)
    return order if order is not None and order.patient_id == account.patient_id else None


def signed_in_patient():
    """The card of this browser's portal session, or None: for other capabilities' portal pages."""
    from app.portal import session

    account = session.current_account()
    return patient_of(account) if account is not None else None


def to_sign_in():
    """The portal's sign-in page, coming back here after."""
    from app.portal import session

    return session.to_sign_in()
