"""Enrolment (开卡), editing, archiving and searching patients.

All writes go through here; views only parse and render. Identifiers are
encrypted before they reach the session, and the search terms are rebuilt in
the same transaction as the change they follow.
"""
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.auth import services as staff
from app.core import audit, clock, crypto, events, identity
from app.core.errors import FieldErrors
from app.patients import (
    facts,  # noqa: F401  (what models read of many cards at once: risk)
    labels,  # noqa: F401  (how other capabilities name history kinds and habits)
)
from app.patients.merge import MergeRefused, merge, merge_candidates  # noqa: F401  (the merge tool)
from app.patients.merge import check as merge_check  # noqa: F401

# Patient is also read (never written) by other capabilities' SQL: tag rules, plan enrolment
from app.patients.models import (
    HISTORY_KINDS,
    SEXES,
    SOURCE_CHANNELS,
    HealthHistoryItem,
    Patient,
    PatientSearchTerm,
    TenantCounter,
)
from app.patients.search_terms import PREFIX_END, normalise_query, primary_pinyin, terms_for
from app.patients.signals import card_changed, card_opened, cards_merged, history_changed  # noqa: F401  (others listen)
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant, utcnow

MOBILE_PURPOSE = "mobile"
ID_PURPOSE = "id_number"
# Who may be assigned: a responsible doctor acknowledges result alerts; a
# health manager (健管师) runs follow-ups.
DOCTOR_ROLES = ("doctor", "owner", "admin")
MANAGER_ROLES = ("health_manager", "doctor", "owner", "admin")


class PatientError(FieldErrors):
    """Bad patient details, by form field."""


@dataclass
class PatientData:
    name: str
    sex: str
    birth_date: date | None  # None from a form left empty: validate() refuses it
    mobile: str
    id_number: str = ""
    email: str = ""
    address: str = ""
    emergency_name: str = ""
    emergency_phone: str = ""
    source_channel: str = "walk_in"
    responsible_doctor_id: int | None = None
    health_manager_id: int | None = None


@dataclass
class SearchPage:
    patients: list[Patient]
    page: int
    has_next: bool
    query: str = ""
    archived: bool = False
    hint: str = field(default="")


# ---------------------------------------------------------------- validation

def _id_message(reason: str) -> str:
    return {
        "format": _("An ID number has 18 characters: 17 digits and a digit or X."),
        "check_digit": _("This ID number's check digit is wrong; please check the number."),
        "birth_date": _("This ID number holds an impossible birth date."),
    }[reason]


def _fill_from_id_number(data: PatientData) -> None:
    """A valid ID number gives the birth date and sex left empty; given ones are checked against it."""
    try:
        resident = identity.parse_resident_id(data.id_number or "")
    except identity.InvalidId:
        return
    if data.birth_date is None:
        data.birth_date = resident.birth_date
    if not data.sex:
        data.sex = resident.sex


def validate(data: PatientData) -> PatientData:
    """Normalise and check; raise PatientError naming every bad field."""
    errors: dict[str, str] = {}
    _fill_from_id_number(data)
    data.name = " ".join((data.name or "").split())
    if not data.name:
        errors["name"] = _("Name is required.")
    if data.sex not in SEXES:
        errors["sex"] = _("Please choose a sex.")
    if not isinstance(data.birth_date, date):
        errors["birth_date"] = _("Birth date is required.")
    elif data.birth_date > clock.today():
        errors["birth_date"] = _("Birth date cannot be in the future.")
    elif data.birth_date.year < 1900:
        errors["birth_date"] = _("Birth date is too far in the past.")
    data.mobile = identity.normalise_mobile(data.mobile)
    if not identity.is_mobile(data.mobile):
        errors["mobile"] = _("A mobile number has 11 digits and starts with 13-19.")
    data.id_number = identity.normalise_id(data.id_number)
    if data.id_number:
        try:
            resident = identity.parse_resident_id(data.id_number)
        except identity.InvalidId as exc:
            errors["id_number"] = _id_message(str(exc))
        else:
            if isinstance(data.birth_date, date) and resident.birth_date != data.birth_date:
                errors["id_number"] = _("The ID number says born %(date)s, which differs from the birth date.",
                                        date=resident.birth_date.isoformat())
            elif data.sex in SEXES and resident.sex != data.sex:
                errors["id_number"] = _("The ID number belongs to a person of the other sex.")
    data.email = (data.email or "").strip()
    if data.email:
        try:
            data.email = validate_email(data.email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = _("Please enter a valid email address, like name@example.cn.")
    data.emergency_phone = identity.normalise_mobile(data.emergency_phone)
    if data.emergency_phone and not (identity.is_mobile(data.emergency_phone)
                                     or re.fullmatch(r"[0-9]{7,12}", data.emergency_phone)):
        errors["emergency_phone"] = _("Please enter a valid phone number.")
    if data.source_channel not in SOURCE_CHANNELS:
        errors["source_channel"] = _("Please choose how the patient came to the clinic.")
    if errors:
        raise PatientError(errors)
    return data


def assignable_staff(roles: tuple[str, ...]) -> list:
    """Active staff of the clinic holding one of ``roles``, by name."""
    return staff.active_staff(roles)


def _check_assignees(data: PatientData, patient: Patient | None = None) -> None:
    """An assignee is an active staff member of this clinic in a fitting role;
    an earlier assignment that is left unchanged is kept as it is."""
    errors = {}
    for name, roles, message in (
            ("responsible_doctor_id", DOCTOR_ROLES, _("Please choose an active doctor of this clinic.")),
            ("health_manager_id", MANAGER_ROLES, _("Please choose an active health manager of this clinic."))):
        wanted = getattr(data, name)
        if wanted is None or (patient is not None and getattr(patient, name) == wanted):
            continue
        person = staff.get_staff(wanted)
        if person is None or not person.active or person.role not in roles:
            errors[name] = message
    if errors:
        raise PatientError(errors)


# ------------------------------------------------------------------- writes

def next_counter(name: str) -> int:
    """Atomically take the next value of a per-clinic sequence."""
    tenant_id = require_tenant_id()
    bump = (update(TenantCounter)
            .where(TenantCounter.tenant_id == tenant_id, TenantCounter.name == name)
            .values(value=TenantCounter.value + 1)
            .returning(TenantCounter.value))
    value = db.session.execute(bump).scalar()
    if value is not None:
        return value
    try:
        with db.session.begin_nested():
            db.session.execute(insert(TenantCounter).values(tenant_id=tenant_id, name=name, value=1))
        return 1
    except IntegrityError:  # another transaction created it first
        return db.session.execute(bump).scalar_one()


def _card_no(seq: int) -> str:
    tenant = db.session.get_one(Tenant, require_tenant_id())
    return f"{tenant.card_prefix}{seq:06d}"


def _duplicate_id(index: str, except_id: int | None = None) -> bool:
    query = select(Patient.id).where(Patient.id_number_index == index)
    if except_id is not None:
        query = query.where(Patient.id != except_id)
    return db.session.scalar(query) is not None


def _set_identifiers(patient: Patient, data: PatientData) -> None:
    tenant_id = require_tenant_id()
    patient.mobile_enc = crypto.encrypt(data.mobile, tenant_id)
    patient.mobile_index = crypto.blind_index(data.mobile, tenant_id, MOBILE_PURPOSE)
    patient.mobile_last4 = data.mobile[-4:]
    if data.id_number:
        patient.id_number_enc = crypto.encrypt(data.id_number, tenant_id)
        patient.id_number_index = crypto.blind_index(data.id_number, tenant_id, ID_PURPOSE)
    else:
        patient.id_number_enc = None
        patient.id_number_index = None


def _apply(patient: Patient, data: PatientData) -> None:
    if data.birth_date is None:  # validate() refuses a missing birth date
        raise ValueError("patient data without a birth date")
    patient.name = data.name
    patient.name_pinyin = primary_pinyin(data.name)
    patient.sex = data.sex
    patient.birth_date = data.birth_date
    patient.email = data.email
    patient.address = data.address.strip()
    patient.emergency_name = data.emergency_name.strip()
    patient.emergency_phone = data.emergency_phone
    patient.source_channel = data.source_channel
    patient.responsible_doctor_id = data.responsible_doctor_id
    patient.health_manager_id = data.health_manager_id
    _set_identifiers(patient, data)


def _rebuild_terms(patient: Patient) -> None:
    db.session.execute(delete(PatientSearchTerm).where(
        PatientSearchTerm.tenant_id == patient.tenant_id, PatientSearchTerm.patient_id == patient.id))
    terms = terms_for(patient.name, patient.card_no, patient.mobile_last4)
    db.session.execute(insert(PatientSearchTerm), [
        {"tenant_id": patient.tenant_id, "term": term, "patient_id": patient.id} for term in sorted(terms)
    ])


def enrol(data: PatientData, *, consent_version: str, actor_id: int | None = None,
          self_registered: bool = False, **audit_detail) -> Patient:
    """Open a card. The caller commits."""
    data = validate(data)
    tenant_id = require_tenant_id()
    if data.id_number and _duplicate_id(crypto.blind_index(data.id_number, tenant_id, ID_PURPOSE)):
        raise PatientError({"id_number": _("A patient with this ID number has a card already.")})
    _check_assignees(data)
    patient = Patient(card_no=_card_no(next_counter("card")), consent_version=consent_version,
                      consent_at=utcnow(), enrolled_by=actor_id, self_registered=self_registered)
    _apply(patient, data)
    db.session.add(patient)
    db.session.flush()
    _rebuild_terms(patient)
    if self_registered:
        audit_detail["self_registered"] = True
    audit.record("patient_enrolled", patient_id=patient.id, card_no=patient.card_no, **audit_detail)
    events.send(card_opened, patient_id=patient.id)
    return patient


def enrol_online(data: PatientData, *, consent_version: str) -> Patient:
    """A card the patient opens in the portal: marked self-registered, for
    the front desk to check their identity at check-in. An ID number that is
    on another card already is not copied onto this one, and the patient is
    not told (that answer would say which ID numbers have cards); the audit
    trail notes it for staff."""
    data = validate(data)
    elsewhere = bool(data.id_number) and _duplicate_id(
        crypto.blind_index(data.id_number, require_tenant_id(), ID_PURPOSE))
    if elsewhere:
        data.id_number = ""
    detail = {"id_number_on_another_card": True} if elsewhere else {}
    return enrol(data, consent_version=consent_version, self_registered=True, **detail)


def verify_identity(patient: Patient) -> bool:
    """The front desk has checked a self-registered patient's identity
    document: the mark goes. False if there was no mark."""
    if not patient.self_registered:
        return False
    patient.self_registered = False
    audit.record("identity_verified", patient_id=patient.id, card_no=patient.card_no)
    return True


def _keep_blank_identifiers(patient: Patient, data: PatientData, remove_id_number: bool) -> set[str]:
    """Fill the identifiers left blank with the stored ones; which were kept."""
    mobile, id_number = identifiers(patient)
    kept: set[str] = set()
    if not (data.mobile or "").strip():
        data.mobile, kept = mobile, kept | {"mobile"}
    if remove_id_number:
        data.id_number = ""
    elif not (data.id_number or "").strip() and id_number:
        data.id_number, kept = id_number, kept | {"id_number"}
    return kept


def validate_edit(patient: Patient, data: PatientData, *, remove_id_number: bool = False) -> PatientData:
    """``validate`` for the edit page, which shows the mobile and ID numbers
    masked: one left blank keeps the stored value (changing it means typing
    the new one), and ``remove_id_number`` clears the ID number. A problem
    with a kept value is told without showing it."""
    kept = _keep_blank_identifiers(patient, data, remove_id_number)
    try:
        return validate(data)
    except PatientError as exc:
        for name in kept & exc.errors.keys():
            exc.errors[name] = _("The recorded number does not fit the other details: correct them, "
                                 "or type the number again.")
        raise


def edit(patient: Patient, data: PatientData, *, remove_id_number: bool = False) -> None:
    """Save the edit page (see validate_edit for the identifiers)."""
    data = validate_edit(patient, data, remove_id_number=remove_id_number)
    index = crypto.blind_index(data.id_number, patient.tenant_id, ID_PURPOSE) if data.id_number else None
    if index and _duplicate_id(index, except_id=patient.id):
        raise PatientError({"id_number": _("A patient with this ID number has a card already.")})
    _check_assignees(data, patient)
    before = _tracked(patient)
    _apply(patient, data)
    _rebuild_terms(patient)
    after = _tracked(patient)
    changed = sorted(k for k in before if before[k] != after[k])
    audit.record("patient_edited", patient_id=patient.id, fields=changed)
    if changed:
        events.send(card_changed, patient_id=patient.id, fields=changed)


def _tracked(patient: Patient) -> dict:
    """What an edit may change, to name the fields that did (identifiers by
    their blind index: the audit trail names a changed number, never its value)."""
    return {"name": patient.name, "sex": patient.sex, "birth_date": patient.birth_date.isoformat(),
            "mobile": patient.mobile_index, "id_number": patient.id_number_index, "email": patient.email,
            "address": patient.address, "emergency_name": patient.emergency_name,
            "emergency_phone": patient.emergency_phone, "source_channel": patient.source_channel,
            "responsible_doctor_id": patient.responsible_doctor_id, "health_manager_id": patient.health_manager_id}


def set_lifestyle(patient: Patient, *, smoking: str, alcohol: str, exercise: str) -> list[str]:
    """Save the habits; -> the fields that changed. Audited as every save of the history is; the
    history-changed signal goes out when something changed (tag rules read the habits)."""
    wanted = {"smoking": smoking, "alcohol": alcohol, "exercise": exercise}
    changed = sorted(name for name, value in wanted.items() if getattr(patient, name) != value)
    for name in changed:
        setattr(patient, name, wanted[name])
    audit.record("history_edited", patient_id=patient.id, section="lifestyle", fields=changed)
    if changed:
        events.send(history_changed, patient_id=patient.id)
    return changed


def add_history(patient: Patient, *, kind: str, description: str, since_year: int | None,
                note: str | None = "", actor_id: int | None = None) -> HealthHistoryItem:
    errors = {}
    if kind not in HISTORY_KINDS:
        errors["kind"] = _("Please choose a kind.")
    if not (description or "").strip():
        errors["description"] = _("Please describe the item.")
    if since_year is not None and not (1900 <= since_year <= clock.today().year):
        errors["since_year"] = _("Year must be between 1900 and this year.")
    elif since_year is not None and since_year < patient.birth_date.year:
        errors["since_year"] = _("Year is before the patient's birth.")
    if errors:
        raise PatientError(errors)
    item = HealthHistoryItem(patient_id=patient.id, kind=kind, description=description.strip(),
                             since_year=since_year, note=(note or "").strip(), recorded_by=actor_id)
    db.session.add(item)
    audit.record("history_edited", patient_id=patient.id, section=kind, added=item.description)
    events.send(history_changed, patient_id=patient.id)
    return item


def remove_history(patient: Patient, item_id: int) -> bool:
    item = db.session.scalar(select(HealthHistoryItem).where(
        HealthHistoryItem.id == item_id, HealthHistoryItem.patient_id == patient.id))
    if item is None:
        return False
    db.session.delete(item)
    audit.record("history_edited", patient_id=patient.id, section=item.kind, removed=item.description)
    events.send(history_changed, patient_id=patient.id)
    return True


def archive(patient: Patient) -> None:
    if patient.archived_at is None:
        patient.archived_at = utcnow()
        audit.record("patient_archived", patient_id=patient.id)


def restore(patient: Patient) -> None:
    if patient.archived_at is not None:
        patient.archived_at = None
        audit.record("patient_restored", patient_id=patient.id)


# -------------------------------------------------------------------- reads

def get(patient_id: int) -> Patient | None:
    return db.session.scalar(select(Patient).where(Patient.id == patient_id))


def find_by_card_no(card_no: str) -> Patient | None:
    return db.session.scalar(select(Patient).where(Patient.card_no == (card_no or "").strip().upper()))


def is_card_number(text: str) -> bool:
    """Shaped like this clinic's card numbers (its prefix and six or more digits): a lab's own record
    number is not."""
    prefix = db.session.get_one(Tenant, require_tenant_id()).card_prefix
    text = (text or "").strip().upper()
    return text.startswith(prefix) and text[len(prefix):].isdigit() and len(text) - len(prefix) >= 6


def find_by_id_number(number: str) -> Patient | None:
    """By resident ID number (through its blind index; the number is never compared in clear)."""
    number = identity.normalise_id(number)
    if len(number) != 18:
        return None
    index = crypto.blind_index(number, require_tenant_id(), ID_PURPOSE)
    return db.session.scalar(select(Patient).where(Patient.id_number_index == index))


def find_one_by_name_and_birth(name: str, birth_date: date) -> Patient | None:
    """The patient of that name and birth date, if exactly one has them."""
    rows = list(db.session.scalars(select(Patient).where(
        Patient.name == (name or "").strip(), Patient.birth_date == birth_date).limit(2)))
    return rows[0] if len(rows) == 1 else None


def has_other_id_number(patient: Patient, number: str) -> bool:
    """The patient's card holds an ID number, and not this one."""
    number = identity.normalise_id(number)
    return bool(len(number) == 18 and patient.id_number_index
                and crypto.blind_index(number, patient.tenant_id, ID_PURPOSE) != patient.id_number_index)


def get_many(patient_ids) -> dict[int, Patient]:
    """{id: patient} for these ids (those of this clinic), in one query."""
    wanted = list(set(patient_ids))
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(wanted)))}


# An allergy item that says there is none: "无已知过敏" is shown only when someone recorded it so.
NO_ALLERGY = {"无", "无过敏", "无过敏史", "无已知过敏", "无已知过敏史", "否认过敏史", "否认药物过敏史",
              "否认药物及食物过敏史", "none", "no",
              "no allergies", "no known allergies", "no known drug allergies", "nka", "nkda"}


@dataclass
class Allergies:
    """What the top of the patient page says about allergies: the items, or that none are known."""
    items: list[HealthHistoryItem]
    none_recorded: bool

    @property
    def shown(self) -> bool:
        return bool(self.items) or self.none_recorded


def allergies(history: dict[str, list[HealthHistoryItem]]) -> Allergies:
    """The allergy items of a patient's history (``history()``); an item saying "none" is not an allergy."""
    items = history.get("allergy", [])
    real = [i for i in items if i.description.strip().strip("。.").casefold() not in NO_ALLERGY]
    return Allergies(real, none_recorded=bool(items) and not real)


def history(patient: Patient) -> dict[str, list[HealthHistoryItem]]:
    items = db.session.scalars(select(HealthHistoryItem)
                               .where(HealthHistoryItem.patient_id == patient.id)
                               .order_by(HealthHistoryItem.created_at))
    grouped: dict[str, list[HealthHistoryItem]] = {kind: [] for kind in HISTORY_KINDS}
    for item in items:
        grouped[item.kind].append(item)
    return grouped


def histories(patient_ids) -> dict[int, list[HealthHistoryItem]]:
    """The health-history items of many patients, oldest first, in one query."""
    wanted = list(set(patient_ids))
    found: dict[int, list[HealthHistoryItem]] = {pid: [] for pid in wanted}
    if wanted:
        for item in db.session.scalars(select(HealthHistoryItem).where(HealthHistoryItem.patient_id.in_(wanted))
                                       .order_by(HealthHistoryItem.created_at)):
            found[item.patient_id].append(item)
    return found


def active_ids() -> list[int]:
    """The ids of the clinic's cards in use (not archived, not merged away), in id order."""
    return list(db.session.scalars(select(Patient.id).where(Patient.archived_at.is_(None),
                                                            Patient.merged_into_id.is_(None)).order_by(Patient.id)))


def identifiers(patient: Patient) -> tuple[str, str | None]:
    """Decrypted (mobile, id_number). Callers audit the view."""
    mobile = crypto.decrypt(patient.mobile_enc, patient.tenant_id)
    if mobile is None:  # every patient is saved with a valid mobile
        raise ValueError(f"patient {patient.id} has no mobile number stored")
    return mobile, crypto.decrypt(patient.id_number_enc, patient.tenant_id)


def masked_mobile(patient: Patient) -> str:
    return identity.mask_mobile(crypto.decrypt(patient.mobile_enc, patient.tenant_id))


def masked_id_number(patient: Patient) -> str:
    return identity.mask_id(crypto.decrypt(patient.id_number_enc, patient.tenant_id))


def search(raw_query: str = "", *, page: int = 1, page_size: int = 20, archived: bool = False,
           also: Iterable[Callable] = ()) -> SearchPage:
    """Name fragment, full pinyin or initials, card number, mobile (whole or
    last four digits) or ID number. Newest cards first. Each of ``also``
    narrows the list: it takes the patient-id column and gives a WHERE
    clause (say, another capability's "carries this tag")."""
    tenant_id = require_tenant_id()
    page = max(1, page)
    query = normalise_query(raw_query)
    statement = select(Patient).where(Patient.tenant_id == tenant_id)
    for narrow in also:
        statement = statement.where(narrow(Patient.id))
    statement = statement.where(Patient.archived_at.is_not(None) if archived else Patient.archived_at.is_(None))
    if query:
        mobile = identity.normalise_mobile(query)
        id_number = identity.normalise_id(query)
        if identity.is_mobile(mobile):
            statement = statement.where(
                Patient.mobile_index == crypto.blind_index(mobile, tenant_id, MOBILE_PURPOSE))
        elif len(id_number) == 18:
            statement = statement.where(
                Patient.id_number_index == crypto.blind_index(id_number, tenant_id, ID_PURPOSE))
        else:
            matching = (select(PatientSearchTerm.patient_id)
                        .where(PatientSearchTerm.tenant_id == tenant_id,
                               PatientSearchTerm.term >= query,
                               PatientSearchTerm.term < query + PREFIX_END))
            statement = statement.where(Patient.id.in_(matching))
    statement = statement.order_by(Patient.id.desc()).offset((page - 1) * page_size).limit(page_size + 1)
    rows = list(db.session.scalars(statement))
    return SearchPage(rows[:page_size], page, len(rows) > page_size, raw_query or "", archived)


def count_active() -> int:
    from sqlalchemy import func

    return db.session.execute(
        select(func.count()).select_from(Patient).where(Patient.archived_at.is_(None))).scalar_one()


def recent(limit: int = 5) -> list[Patient]:
    return list(db.session.scalars(select(Patient).where(Patient.archived_at.is_(None))
                                   .order_by(Patient.id.desc()).limit(limit)))


def opened_on(day, limit: int = 50) -> list[Patient]:
    """Cards opened on the clinic day ``day``, newest first (the front desk's home page)."""
    start, end = clock.day_bounds(day)
    return list(db.session.scalars(select(Patient).where(Patient.created_at >= start, Patient.created_at < end)
                                   .order_by(Patient.id.desc()).limit(limit)))


def of_doctor(doctor_id: int):
    """A select of the ids of a doctor's patients (open cards), for another capability's query."""
    return select(Patient.id).where(Patient.responsible_doctor_id == doctor_id, Patient.archived_at.is_(None))


def masked_mobiles(rows) -> dict[int, str]:
    """{patient id: 138****5678} for these patients, decrypted in-process (no query)."""
    return {p.id: masked_mobile(p) for p in rows}
