"""Patients' advice sheets: composed from the library's items that apply,
edited by the doctor or health manager, released to the portal.

A sheet's ``entries`` are a list of ``{item_id, item_key, version, category,
title, body, source, reasons, needs, edited}``: the words of the item version
it was composed from, in the patient's language with their numbers filled in
(``needs``: what a number still lacks), and the conditions that made it apply
(``reasons``). A released sheet is never changed; changes go into a new draft.
"""
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.clinic import services as clinic_profile
from app.core import audit
from app.core.errors import FieldErrors
from app.core.urls import clinic_url
from app.interventions import advice_conditions, advice_library, advice_personal
from app.interventions.advice_models import AdviceSheet
from app.notifications import services as notifications
from app.patients import services as patients
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant, utcnow

MAX_TITLE, MAX_BODY = 120, 4000


class SheetLocked(ValueError):
    """A released sheet is not changed."""


def get(sheet_id: int, patient_id: int | None = None, *, for_update: bool = False) -> AdviceSheet | None:
    query = select(AdviceSheet).where(AdviceSheet.id == sheet_id)
    if patient_id is not None:
        query = query.where(AdviceSheet.patient_id == patient_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def sheets_for(patient_id: int) -> list[AdviceSheet]:
    """The patient's sheets, the draft first, then released ones newest first."""
    rows = db.session.scalars(select(AdviceSheet).where(AdviceSheet.patient_id == patient_id)
                              .order_by(AdviceSheet.created_at.desc(), AdviceSheet.id.desc()))
    return sorted(rows, key=lambda s: s.status != "draft")


def released_for(patient_id: int) -> list[AdviceSheet]:
    return list(db.session.scalars(select(AdviceSheet).where(
        AdviceSheet.patient_id == patient_id, AdviceSheet.status == "released")
        .order_by(AdviceSheet.released_at.desc(), AdviceSheet.id.desc())))


def draft_for(patient_id: int) -> AdviceSheet | None:
    return db.session.scalar(select(AdviceSheet).where(AdviceSheet.patient_id == patient_id,
                                                       AdviceSheet.status == "draft"))


def entries_for(patient, locale: str) -> tuple[list[dict], dict]:
    """The entries of the library's active items that apply to the patient, and their numbers."""
    advice_library.ensure_pack()
    facts = advice_personal.facts_of(patient)
    numbers = advice_personal.numbers_of(patient)
    zh = locale.startswith("zh")
    entries = []
    with force_locale(locale):
        got, needs = advice_personal.values(numbers)
        for item, version in advice_library.current_items(active_only=True):
            reasons = advice_conditions.why(version.conditions, facts)
            if reasons is None:
                continue
            title, missing_in_title = advice_personal.fill(version.title_zh if zh else version.title_en, got, needs)
            body, missing = advice_personal.fill(version.body_zh if zh else version.body_en, got, needs)
            entries.append({"item_id": item.id, "item_key": item.key, "version": version.version,
                            "category": version.category, "title": title, "body": body, "source": version.source,
                            "reasons": reasons, "needs": list(dict.fromkeys(missing_in_title + missing)),
                            "edited": False})
    return entries, numbers


def compose(patient, *, actor_id: int | None = None) -> tuple[AdviceSheet, bool]:
    """The patient's draft: the open one if there is one (False), else a new one composed now (True)."""
    found = draft_for(patient.id)
    if found is not None:
        return found, False
    locale = patient.preferred_locale or "zh_CN"
    entries, numbers = entries_for(patient, locale)
    sheet = AdviceSheet(patient_id=patient.id, status="draft", locale=locale, entries=entries, numbers=numbers,
                        composed_by=actor_id)
    db.session.add(sheet)
    db.session.flush()
    audit.record("advice_composed", patient_id=patient.id, sheet_id=sheet.id, items=len(entries))
    return sheet, True


def recompose(sheet: AdviceSheet, patient) -> None:
    """Compose the draft again from the library and the patient's data now (edits are dropped)."""
    if sheet.status != "draft":
        raise SheetLocked(sheet.id)
    sheet.entries, sheet.numbers = entries_for(patient, sheet.locale)
    sheet.updated_at = utcnow()
    audit.record("advice_composed", patient_id=patient.id, sheet_id=sheet.id, items=len(sheet.entries),
                 again=True)


def edit_entry(sheet: AdviceSheet, index: int, *, title: str, body: str) -> None:
    """Change one entry's words; empty words are refused (FieldErrors)."""
    if sheet.status != "draft":
        raise SheetLocked(sheet.id)
    if not 0 <= index < len(sheet.entries):
        raise IndexError(index)
    errors = {}
    if not title.strip():
        errors["title"] = _("Write a title; it cannot be empty.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("At most %(n)d characters.", n=MAX_TITLE)
    if not body.strip():
        errors["body"] = _("Write the advice; it cannot be empty.")
    elif len(body) > MAX_BODY:
        errors["body"] = _("At most %(n)d characters.", n=MAX_BODY)
    if errors:
        raise FieldErrors(errors)
    entries = [dict(e) for e in sheet.entries]
    title, body = title.strip(), body.strip()
    with force_locale(sheet.locale):  # a need stays listed while its "[needed: ...]" is still in the words
        needs = [n for n in entries[index]["needs"] if _("[needed: %(what)s]", what=n) in title + body]
    entries[index].update(title=title, body=body, edited=True, needs=needs)
    sheet.entries, sheet.updated_at = entries, utcnow()
    audit.record("advice_edited", patient_id=sheet.patient_id, sheet_id=sheet.id, entry=entries[index]["item_key"])


def remove_entry(sheet: AdviceSheet, index: int) -> None:
    if sheet.status != "draft":
        raise SheetLocked(sheet.id)
    if not 0 <= index < len(sheet.entries):
        raise IndexError(index)
    entries = [dict(e) for e in sheet.entries]
    removed = entries.pop(index)
    sheet.entries, sheet.updated_at = entries, utcnow()
    audit.record("advice_edited", patient_id=sheet.patient_id, sheet_id=sheet.id, removed=removed["item_key"])


def release(sheet: AdviceSheet, *, actor_id: int | None = None) -> bool:
    """Release the draft to the patient and tell them; False if it was released already
    (a second release changes nothing and sends nothing). An empty sheet is refused (FieldErrors)."""
    sheet = get(sheet.id, for_update=True) or sheet
    if sheet.status == "released":
        return False
    if not sheet.entries:
        raise FieldErrors({"sheet": _("The sheet has no advice to release.")})
    sheet.status, sheet.released_by, sheet.released_at = "released", actor_id, utcnow()
    sheet.updated_at = sheet.released_at
    audit.record("advice_released", patient_id=sheet.patient_id, sheet_id=sheet.id, items=len(sheet.entries))
    _tell_patient(sheet)
    return True


def _tell_patient(sheet: AdviceSheet) -> None:
    """"Your clinic has new advice for you", with a link to the portal: no health content in the message."""
    patient = patients.get(sheet.patient_id)
    if patient is None:  # a sheet goes with its patient (ON DELETE CASCADE)
        raise LookupError(f"advice sheet {sheet.id}: patient {sheet.patient_id} not found")
    tenant = db.session.get_one(Tenant, require_tenant_id())
    notifications.notify("advice_released", notifications.patient_recipient(patient),
                         {"patient_name": patient.name, "clinic": clinic_profile.name(),
                          "url": clinic_url(tenant.slug, "portal_advice.index")},
                         idempotency_key=f"advice:{sheet.id}:released", channel_by_channel=True)
