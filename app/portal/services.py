"""Patients' portal accounts: signing in with a code, finding or opening
their card, and their orders. No request objects here; the session (a
server-side one, app/core/sessions.py) is app/portal/session.py."""
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.booking import services as booking
from app.core import audit, crypto, sessions
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
    sign-in, linked to the patient card with this number if there is one)."""
    index = otp.verify(raw_mobile, code, ip, now=now)
    mobile = otp.normalise(raw_mobile)
    account = db.session.scalar(select(PortalAccount).where(PortalAccount.mobile_index == index))
    if account is None:
        account = PortalAccount(mobile_index=index, mobile_enc=crypto.encrypt(mobile, require_tenant_id()),
                                session_nonce=secrets.token_urlsafe(12))
        try:
            with db.session.begin_nested():
                db.session.add(account)
        except IntegrityError:  # the same number signed in twice at once
            account = db.session.scalar(select(PortalAccount).where(PortalAccount.mobile_index == index))
            if account is None:  # another conflict than the number's
                raise
    if account.patient_id is None:
        matches = patients.search(mobile).patients
        if len(matches) == 1:
            account.patient_id = matches[0].id
    account.last_signin_at = now or utcnow()
    audit.record("portal_sign_in", patient_id=account.patient_id, account_id=account.id)
    return account


def get_account(account_id: int) -> PortalAccount | None:
    """The account a portal session belongs to (in this clinic only)."""
    return db.session.scalar(select(PortalAccount).where(PortalAccount.id == account_id))


def sign_out_everywhere(account: PortalAccount) -> None:
    """End every session of the account (the caller commits)."""
    sessions.end_all("portal", account.id, reason="signed_out")


def mobile_of(account: PortalAccount) -> str:
    return crypto.decrypt(account.mobile_enc, account.tenant_id) or ""


def patient_of(account: PortalAccount):
    return patients.get(account.patient_id) if account.patient_id else None


def _same_person(patient, data: patients.PatientData) -> bool:
    return (patient.name == data.name and patient.birth_date == data.birth_date and patient.sex == data.sex)


def confirm_details(account: PortalAccount, data: patients.PatientData, *, consent_version: str):
    """The patient card for this account: the linked one; else a card with
    this number (or this ID number) and the same name, sex and birth date;
    else a new card from the details, validated as staff enrolment does.
    Raises patients.PatientError naming the bad fields."""
    linked = patient_of(account)
    if linked is not None:
        return linked
    data.mobile = mobile_of(account)
    data.source_channel = "online"
    data = patients.validate(data)
    match = next((p for p in patients.search(data.mobile).patients if _same_person(p, data)), None)
    if match is None and data.id_number:
        by_id = patients.search(data.id_number).patients
        if by_id and not _same_person(by_id[0], data):
            raise patients.PatientError({"id_number": _(
                "A card with this ID number exists under other details; please contact the clinic.")})
        match = by_id[0] if by_id else None
    if match is None:
        match = patients.enrol(data, consent_version=consent_version)
    account.patient_id = match.id
    return match


def orders(account: PortalAccount) -> list:
    return booking.orders.of_patient(account.patient_id) if account.patient_id else []


def order_of(account: PortalAccount | None, order_id: int):
    """The account's own order, or None (another patient's order is not found)."""
    if account is None or account.patient_id is None:
        return None
    order = booking.get_order(order_id)
    return order if order is not None and order.patient_id == account.patient_id else None
