"""Which results the patient's portal shows. Results reach it an exam day at a time when released: by a doctor
on the results page or with the printed report of that day, or, if the clinic chose it, automatically once
every result of the day is normal and the clinic's hours have passed since the last one was stored; a day
with an abnormal result waits for a doctor. The patient's own home readings show at once, and so do the
results a clinic stored before releases existed (``ReleaseSettings.shown_before``); the patient's questionnaire
scores show at once too, and a risk model's results with their day's exam."""
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.clinic import services as clinic_profile
from app.core import audit, clock
from app.core.errors import FieldErrors
from app.core.urls import clinic_url
from app.notifications import services as notifications
from app.patients import services as patients
from app.records.exam_days import NOT_EXAM, THE_PATIENTS_OWN
from app.records.models import Observation, ReleaseSettings, ResultRelease
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant, utcnow

ABNORMAL = ("L", "H", "LL", "HH", "A")
MAX_HOURS = 720
AUTO_WINDOW = timedelta(days=30)  # the automatic release looks at results stored this recently


def settings() -> ReleaseSettings | None:
    return db.session.get(ReleaseSettings, require_tenant_id())


def save_settings(hours_text: str) -> ReleaseSettings:
    """Blank: a doctor releases every result; a whole number of hours: normal days go out after it."""
    text = (hours_text or "").strip()
    hours = None
    if text:
        if not text.isdigit() or not 1 <= int(text) <= MAX_HOURS:
            raise FieldErrors({"auto_release_hours": _("Enter whole hours from 1 to %(max)d, or leave it empty.",
                                                       max=MAX_HOURS)})
        hours = int(text)
    row = settings()
    if row is None:
        row = ReleaseSettings(tenant_id=require_tenant_id())
        db.session.add(row)
    row.auto_release_hours, row.updated_at = hours, utcnow()
    audit.record("release_settings_changed", hours=hours)
    return row


def released_days(patient_id: int) -> set[date]:
    return set(db.session.scalars(select(ResultRelease.exam_date).where(ResultRelease.patient_id == patient_id)))


def shown_to_patient(patient_id: int) -> Callable[[Observation], bool]:
    """Whether the portal shows a result of this patient."""
    days = released_days(patient_id)
    row = settings()
    before = row.shown_before if row is not None else None
    return lambda o: (o.origin in THE_PATIENTS_OWN or (before is not None and o.created_at < before)
                      or clock.local_date(o.observed_at) in days)


def waiting(patient_id: int) -> list[tuple[date, int]]:
    """The patient's exam days not released yet, newest first, with how many of their results are abnormal."""
    released = released_days(patient_id)
    row = settings()
    before = row.shown_before if row is not None else None
    abnormal: dict[date, int] = defaultdict(int)
    for observed_at, flag, created_at in db.session.execute(
            select(Observation.observed_at, Observation.flag, Observation.created_at).where(
                Observation.patient_id == patient_id, Observation.superseded_by.is_(None),
                Observation.origin.not_in(NOT_EXAM))):
        day = clock.local_date(observed_at)
        if day in released or (before is not None and created_at < before):
            continue
        abnormal[day] += flag in ABNORMAL
    return sorted(abnormal.items(), reverse=True)


def release(patient, day: date, *, mode: str, actor_id: int | None, tell: bool = True) -> bool:
    """Show the day's results in the portal; False when they were released already. The caller commits."""
    if day in released_days(patient.id):
        return False
    db.session.add(ResultRelease(patient_id=patient.id, exam_date=day, mode=mode, released_by=actor_id))
    audit.record("results_released", patient_id=patient.id, actor_id=actor_id,
                 actor_label="" if actor_id or mode != "auto" else "auto", exam_date=day.isoformat(), mode=mode)
    if tell:
        _tell_patient(patient, day)
    return True


def _tell_patient(patient, day: date) -> None:
    tell_ready(patient, lambda: _("exam results of %(date)s", date=day.isoformat()), "portal.results",
               key=f"results:{patient.id}:{day.isoformat()}:released")


def tell_ready(patient, title: Callable[[], str], endpoint: str, *, key: str) -> None:
    """The report_ready message: that something of the patient's (``title()``, worded in their language) is
    ready at the portal page ``endpoint``, nothing of what it holds; once per ``key``."""
    tenant = db.session.get_one(Tenant, require_tenant_id())
    with force_locale(patient.preferred_locale or "zh_CN"):
        words = title()
    notifications.notify("report_ready", notifications.patient_recipient(patient),
                         {"patient_name": patient.name, "report": words, "clinic": clinic_profile.name(),
                          "url": clinic_url(tenant.slug, endpoint)},
                         idempotency_key=key, channel_by_channel=True)


def release_due(now: datetime | None = None) -> int:
    """Release, in the current clinic, every exam day whose results are all normal and whose newest result
    was stored the clinic's hours ago or more; returns how many days. The caller commits."""
    row = settings()
    if row is None or not row.auto_release_hours:
        return 0
    now = now or utcnow()
    settled_before = now - timedelta(hours=row.auto_release_hours)
    days: dict[tuple[int, date], list] = defaultdict(list)
    for patient_id, observed_at, flag, created_at in db.session.execute(
            select(Observation.patient_id, Observation.observed_at, Observation.flag, Observation.created_at).where(
                Observation.superseded_by.is_(None), Observation.origin.not_in(NOT_EXAM),
                Observation.created_at >= now - AUTO_WINDOW)):
        if row.shown_before is None or created_at >= row.shown_before:
            days[(patient_id, clock.local_date(observed_at))].append((flag, created_at))
    ready = [key for key, results in days.items()
             if all(flag not in ABNORMAL for flag, _at in results) and max(at for _f, at in results) <= settled_before]
    people = patients.get_many(sorted({pid for pid, _day in ready}))
    count = 0
    for patient_id, day in sorted(ready, key=lambda key: (key[1], key[0])):
        patient = people.get(patient_id)
        if patient is not None and release(patient, day, mode="auto", actor_id=None):
            count += 1
    return count
