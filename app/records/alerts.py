"""Result alerts: a critical value, or a value that has just become abnormal,
raises an alert for the patient's responsible doctor.

One alert per patient and report (values typed in: per patient and clinic
day of the measurement) lists its abnormal items; a later result of the same
report joins the open alert. Its tier is critical when any item is: a
critical alert shows in red at the top of every staff page, is acknowledged
with who was informed and what was done, within the clinic's deadline
(``AlertSettings.ack_minutes``, 30 by default); past it, ``escalate_due``
(``flask records escalate-critical``, from cron every few minutes) texts and
emails the responsible doctor's backup and the clinic's admins, once.

The database keeps the guarantees: a result alerts once
(alert_items(tenant_id, observation_id)), and a group has one open alert
(a partial unique index on alerts)."""
import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError

from app.auth import services as staff
from app.core import audit, clock, identity
from app.core.errors import FieldErrors
from app.core.urls import clinic_url
from app.notifications import services as notifications
from app.patients import services as patients
from app.records import results
from app.records.models import Alert, AlertContact, AlertItem, AlertSettings, Indicator, Observation
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant, utcnow

CRITICAL = ("HH", "LL")
ABNORMAL = ("H", "L", "A")
TIERS = ("critical", "abnormal")
STATUSES = ("open", "acknowledged", "withdrawn")
INFORMED = ("patient", "family", "doctor", "other")
ACK_MINUTES_DEFAULT, ACK_MINUTES_RANGE = 30, (5, 1440)
BACKUP_ROLES = ("owner", "admin", "doctor")  # who may acknowledge, so who may stand in
ESCALATION_ROLES = ("admin",)                # told of every escalation (the owners when there is no admin)
PAGE_SIZE = 50


class AlertError(FieldErrors):
    """An acknowledgement or a setting that cannot be saved, by form field."""


# ------------------------------------------------------------------ settings

def settings() -> AlertSettings:
    """The clinic's settings row (a transient row of defaults if it has none)."""
    row = db.session.scalar(select(AlertSettings))
    return row if row is not None else AlertSettings(ack_minutes=ACK_MINUTES_DEFAULT, backup_doctor_id=None)


def contacts() -> dict[int, AlertContact]:
    return {c.staff_id: c for c in db.session.scalars(select(AlertContact))}


def backup_choices() -> list:
    """Active staff who may stand in for a doctor (they may acknowledge alerts)."""
    return staff.active_staff(BACKUP_ROLES)


def update_settings(*, ack_minutes: int | None, backup_doctor_id: int | None,
                    people: dict[int, tuple[int | None, str]]) -> dict:
    """Store the deadline, the clinic's backup doctor and, per staff member,
    (backup doctor, mobile for escalations; "" keeps the number on file).
    The caller commits; returns what changed (audited here, numbers never)."""
    low, high = ACK_MINUTES_RANGE
    errors = {}
    if ack_minutes is None or not low <= ack_minutes <= high:
        errors["ack_minutes"] = _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    allowed = {u.id for u in backup_choices()}
    if backup_doctor_id is not None and backup_doctor_id not in allowed:
        errors["backup_doctor_id"] = _("Choose a doctor from the list.")
    known = {u.id for u in staff.list_staff()}
    for staff_id, (backup_id, mobile) in people.items():
        if staff_id not in known or (backup_id is not None and (backup_id not in allowed or backup_id == staff_id)):
            errors[f"backup-{staff_id}"] = _("Choose another doctor as the backup.")
        if mobile and not identity.is_mobile(identity.normalise_mobile(mobile)):
            errors[f"mobile-{staff_id}"] = _("Enter a mainland mobile number (11 digits).")
    if errors:
        raise AlertError(errors)
    row = db.session.scalar(select(AlertSettings))
    if row is None:
        row = AlertSettings(ack_minutes=ACK_MINUTES_DEFAULT)
        db.session.add(row)
    changes: dict = {}
    for name, value in (("ack_minutes", ack_minutes), ("backup_doctor_id", backup_doctor_id)):
        if getattr(row, name) != value:
            changes[name] = [getattr(row, name), value]
            setattr(row, name, value)
    existing = contacts()
    for staff_id, (backup_id, mobile) in people.items():
        contact = existing.get(staff_id)
        if contact is None:
            if backup_id is None and not mobile:
                continue
            contact = AlertContact(staff_id=staff_id, backup_id=None, mobile="")
            db.session.add(contact)
        if contact.backup_id != backup_id:
            changes.setdefault("backups", {})[str(staff_id)] = [contact.backup_id, backup_id]
            contact.backup_id = backup_id
        if mobile and identity.normalise_mobile(mobile) != contact.mobile:
            changes.setdefault("mobiles", []).append(staff_id)
            contact.mobile = identity.normalise_mobile(mobile)
    if changes:
        audit.record("alert_settings_changed", **changes)
    return changes


# ------------------------------------------------------------------ raising

def _kind(observation: Observation, previous_flags: dict[int, str | None]) -> str | None:
    if observation.flag in CRITICAL:
        return "critical"
    if observation.flag in ABNORMAL and previous_flags.get(observation.id) in (None, "", "N"):
        return "abnormal"
    return None


def group_key(patient_id: int, observation: Observation, report_id: int | None = None) -> str:
    """The alert an abnormal result belongs to: its report's, else its patient's clinic day's."""
    report = report_id if report_id is not None else observation.report_id
    if report is not None:
        return f"report:{report}"
    return f"day:{patient_id}:{clock.local_date(observation.observed_at).isoformat()}"


def _item_text(indicator: Indicator, observation: Observation) -> str:
    value = f"{observation.value_text} {observation.reported_unit}".strip()
    return f"{indicator.name_zh} {value} ({observation.flag})"[:200]


def raise_for(patient, observations: list[Observation], report_id: int | None = None) -> list[Alert]:
    """Add new abnormal results to their patient's alerts (the caller
    commits): to the open alert of their report (or clinic day) or a new
    one; the doctor is told once per alert, and again if it turns critical,
    through the notification outbox after commit. ``report_id`` overrides
    the observations' own report (they carry it: the importer need not pass
    it). Returns the alerts created or added to."""
    flagged = [o for o in observations if o.flag in CRITICAL + ABNORMAL and not o.superseded_by]
    if flagged:  # a result alerts once: stored again (or made current again) it keeps the alert it has
        alerted = set(db.session.scalars(select(AlertItem.observation_id).where(
            AlertItem.observation_id.in_([o.id for o in flagged]))))
        flagged = [o for o in flagged if o.id not in alerted]
    if not flagged:
        return []
    previous = results.previous_flags(patient.id, [o for o in flagged if o.flag not in CRITICAL])
    groups: dict[str, list[tuple[Observation, str]]] = defaultdict(list)
    for observation in flagged:
        kind = _kind(observation, previous)
        if kind:
            groups[group_key(patient.id, observation, report_id)].append((observation, kind))
    touched = []
    for key, members in groups.items():
        alert, created = _open_alert(patient, key, report_id if report_id is not None else members[0][0].report_id)
        was_critical = alert.kind == "critical"
        texts, first = [], None
        for observation, kind in members:
            indicator = db.session.get_one(Indicator, (patient.tenant_id, observation.indicator_id))  # loaded already
            text = _item_text(indicator, observation)
            first = first or (indicator.name_zh, f"{observation.value_text} {observation.reported_unit}".strip(),
                              observation.flag)
            texts.append(text)
            db.session.add(AlertItem(alert_id=alert.id, observation_id=observation.id, kind=kind,
                                     flag=observation.flag, summary=text))
        alert.item_count = (alert.item_count or 0) + len(members)
        alert.summary = ("; ".join(filter(None, [alert.summary, *texts])))[:200]
        if any(kind == "critical" for _o, kind in members) and not was_critical:
            alert.kind = "critical"
            alert.critical_at = utcnow()
            alert.due_at = alert.critical_at + timedelta(minutes=settings().ack_minutes)
        db.session.flush()
        _notify_doctor(patient, alert, first or ("", "", ""), created=created,
                       turned_critical=alert.kind == "critical" and not was_critical)
        touched.append(alert)
    return touched


def _open_alert(patient, key: str, report_id: int | None) -> tuple[Alert, bool]:
    query = select(Alert).where(Alert.patient_id == patient.id, Alert.group_key == key, Alert.status == "open")
    found = db.session.scalar(query)
    if found is not None:
        return found, False
    alert = Alert(patient_id=patient.id, report_id=report_id, group_key=key, kind="abnormal", summary="",
                  item_count=0, doctor_id=patient.responsible_doctor_id, status="open", escalated_to=[])
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:  # another import of this report opened it meanwhile
        found = db.session.scalar(query)
        if found is None:
            raise
        return found, False
    return alert, True


def _items_text(alert: Alert) -> str:
    return "; ".join(i.summary for i in items_of([alert.id]).get(alert.id, []))


def _notify_doctor(patient, alert: Alert, first: tuple[str, str, str], *, created: bool,
                   turned_critical: bool) -> None:
    if not (created or turned_critical) or not patient.responsible_doctor_id:
        return  # no responsible doctor: the alert waits in the list for every doctor
    doctor = staff.get_staff(patient.responsible_doctor_id)
    if doctor is None or not doctor.active:
        return
    clinic = db.session.get_one(Tenant, patient.tenant_id)
    items = _items_text(alert)
    if alert.kind == "critical":
        notifications.notify(
            "critical_result_alert", notifications.staff_recipient(doctor),
            {"patient_name": patient.name, "card_no": patient.card_no, "items": items, "count": alert.item_count,
             "minutes": settings().ack_minutes, "clinic": clinic.name,
             "url": clinic_url(clinic.slug, "records.alert_list", tier="critical")},
            idempotency_key=f"alert:{alert.id}:critical", channels=("inapp",))
        return
    indicator, value, flag = first  # the first item, for a clinic's wording written before items were offered
    notifications.notify(
        "abnormal_result_alert", notifications.staff_recipient(doctor),
        {"patient_name": patient.name, "card_no": patient.card_no, "indicator": indicator, "value": value,
         "flag": flag, "items": items, "count": alert.item_count, "clinic": clinic.name},
        idempotency_key=f"alert:{alert.id}", channels=("inapp",))


# ------------------------------------------------------------------ reading

@dataclass
class Viewer:
    """Whose alerts a person sees: their patients' and the unassigned ones;
    escalated ones too when they stand in for the doctor or run the clinic."""

    staff_id: int
    backs_up: tuple[int, ...] = ()
    sees_escalated: bool = False


def viewer(user) -> Viewer:
    backs_up = tuple(db.session.scalars(select(AlertContact.staff_id).where(AlertContact.backup_id == user.id)))
    return Viewer(user.id, backs_up, user.role in ("owner", "admin") or settings().backup_doctor_id == user.id)


def _visible_to(who: Viewer | int):
    if isinstance(who, int):
        who = Viewer(who)
    escalated = true() if who.sees_escalated else Alert.doctor_id.in_(who.backs_up) if who.backs_up else false()
    return or_(Alert.doctor_id == who.staff_id, Alert.doctor_id.is_(None),
               and_(Alert.escalated_at.is_not(None), escalated))


@dataclass
class Filters:
    tier: str = ""            # critical | abnormal | "" (both)
    status: str = "open"      # open | acknowledged | "" (both: "all" in the query)
    doctor: str = ""          # "" (mine), "all", "none" (unassigned), or a staff id
    since: date | None = None
    until: date | None = None
    page: int = 1


def parse_filters(args) -> Filters:
    def day(name):
        try:
            return date.fromisoformat(args.get(name, "")[:10])
        except ValueError:
            return None

    page = args.get("page", "1")
    doctor = args.get("doctor", "")
    if args.get("all") == "1":  # the former "everyone's open alerts" link
        doctor = "all"
    return Filters(tier=args.get("tier", "") if args.get("tier") in TIERS else "",
                   status="" if args.get("status") == "all" else args.get("status", "open")
                   if args.get("status", "open") in STATUSES else "open",
                   doctor=doctor if doctor in ("", "all", "none") or (doctor.isdecimal() and len(doctor) < 19) else "",
                   since=day("since"), until=day("until"),
                   page=min(int(page), 10_000) if page.isdecimal() and 0 < len(page) < 6 and int(page) > 0 else 1)


def _filtered(who: Viewer, filters: Filters):
    query = select(Alert)
    if filters.doctor == "all":
        pass
    elif filters.doctor == "none":
        query = query.where(Alert.doctor_id.is_(None))
    elif filters.doctor:
        query = query.where(Alert.doctor_id == int(filters.doctor))
    else:
        query = query.where(_visible_to(who))
    if filters.tier:
        query = query.where(Alert.kind == filters.tier)
    if filters.status:
        query = query.where(Alert.status == filters.status)
    return query.where(*clock.within_days(Alert.created_at, filters.since, filters.until))


def page_of(who: Viewer, filters: Filters, per_page: int = PAGE_SIZE) -> tuple[list[Alert], int]:
    """One page of the alerts the filters choose, critical first, newest first; and how many in all."""
    query = _filtered(who, filters)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.scalars(query.order_by((Alert.kind == "critical").desc(), Alert.created_at.desc(),
                                             Alert.id.desc())
                              .offset((filters.page - 1) * per_page).limit(per_page))
    return list(rows), total


def open_alerts(staff_id: int, *, everyone: bool = False, limit: int = 100) -> list[Alert]:
    query = select(Alert).where(Alert.status == "open").order_by(Alert.id.desc()).limit(limit)
    return list(db.session.scalars(query if everyone else query.where(_visible_to(staff_id))))


def open_count(who: Viewer | int) -> int:
    return db.session.execute(select(func.count()).select_from(Alert).where(
        Alert.status == "open", _visible_to(who))).scalar_one()


def open_critical(who: Viewer, limit: int = 3) -> tuple[list[Alert], int]:
    """The banner's open critical alerts (earliest deadline first) and how many there are."""
    where = (Alert.status == "open", Alert.kind == "critical", _visible_to(who))
    count = db.session.execute(select(func.count()).select_from(Alert).where(*where)).scalar_one()
    if not count:
        return [], 0
    rows = db.session.scalars(select(Alert).where(*where).order_by(Alert.due_at.is_(None), Alert.due_at,
                                                                    Alert.id).limit(limit))
    return list(rows), count


def open_critical_of(patient_id: int, limit: int = 5) -> list[Alert]:
    """A patient's open critical alerts, for the banner on their page."""
    return list(db.session.scalars(select(Alert).where(Alert.patient_id == patient_id, Alert.status == "open",
                                                       Alert.kind == "critical")
                                   .order_by(Alert.created_at.desc()).limit(limit)))


def items_of(alert_ids) -> dict[int, list[AlertItem]]:
    ids = list(dict.fromkeys(alert_ids))
    found: dict[int, list[AlertItem]] = defaultdict(list)
    if ids:
        for item in db.session.scalars(select(AlertItem).where(AlertItem.alert_id.in_(ids))
                                       .order_by(AlertItem.kind != "critical", AlertItem.id)):
            found[item.alert_id].append(item)
    return found


def get(alert_id: int) -> Alert | None:
    return db.session.scalar(select(Alert).where(Alert.id == alert_id))


# ------------------------------------------------------------------ acknowledging

def acknowledge(alert: Alert, note: str, actor_id: int, *, informed: str = "", informed_name: str = "") -> bool:
    """Acknowledge an open alert (the caller commits): ``note`` is what was
    done; a critical alert also needs who was informed (a kind of person
    and a name). Marks the alert's inbox messages read. False if it was not
    open."""
    errors = {}
    if not note.strip():
        errors["note"] = _("Please write what was done about this result.")
    if alert.kind == "critical":
        if informed not in INFORMED:
            errors["informed"] = _("Choose who was informed of the critical value.")
        if not informed_name.strip():
            errors["informed_name"] = _("Write the name of the person informed.")
    if errors:
        raise AlertError(errors)
    if alert.status != "open":
        return False
    alert.status, alert.note = "acknowledged", note.strip()[:2000]
    if alert.kind == "critical":
        alert.informed, alert.informed_name = informed, informed_name.strip()[:60]
    alert.acknowledged_by, alert.acknowledged_at = actor_id, utcnow()
    notifications.mark_read_by_key(f"alert:{alert.id}:")
    if alert.kind == "critical":
        audit.record("alert_acknowledged", patient_id=alert.patient_id, alert=alert.summary, tier=alert.kind,
                     informed=informed, late=bool(alert.due_at and alert.acknowledged_at > alert.due_at))
    else:
        audit.record("alert_acknowledged", patient_id=alert.patient_id, alert=alert.summary, tier=alert.kind)
    return True


def bulk_acknowledge(alert_ids: list[int], note: str, actor_id: int) -> tuple[int, int]:
    """Acknowledge many abnormal alerts with one note (the caller commits).
    Critical alerts are left open: each needs its own record of who was
    informed. Returns (acknowledged, critical left open)."""
    if not note.strip():
        raise AlertError({"note": _("Please write what was done about these results.")})
    rows = list(db.session.scalars(select(Alert).where(Alert.id.in_(alert_ids[:PAGE_SIZE * 4]),
                                                       Alert.status == "open")))
    done = skipped = 0
    for alert in rows:
        if alert.kind == "critical":
            skipped += 1
        elif acknowledge(alert, note, actor_id):
            done += 1
    return done, skipped


# ------------------------------------------------------------------ escalation

def _escalation_recipients(alert: Alert, rules: AlertSettings, people: dict[int, AlertContact]) -> list:
    contact = people.get(alert.doctor_id) if alert.doctor_id else None
    backup_id = (contact.backup_id if contact and contact.backup_id else None) or rules.backup_doctor_id
    chosen = []
    if backup_id and backup_id != alert.doctor_id:
        backup = staff.get_staff(backup_id)
        if backup is not None and backup.active:
            chosen.append(backup)
    admins = staff.active_staff(ESCALATION_ROLES) or staff.active_staff(("owner",))
    chosen += [a for a in admins if a.id not in {c.id for c in chosen}]
    return chosen


def escalate_due() -> int:
    """Escalate the current clinic's critical alerts left unacknowledged
    past their deadline (the caller commits): the responsible doctor's
    backup (else the clinic's) and the admins get an SMS, an email and an
    in-app message, once per alert and person. Returns how many alerts."""
    due = list(db.session.scalars(select(Alert).where(
        Alert.status == "open", Alert.kind == "critical", Alert.escalated_at.is_(None),
        Alert.due_at.is_not(None), Alert.due_at <= utcnow()).order_by(Alert.due_at).limit(500)))
    if not due:
        return 0
    rules, people = settings(), contacts()
    clinic = db.session.get_one(Tenant, require_tenant_id())
    found = patients.get_many(a.patient_id for a in due)
    for alert in due:
        patient = found.get(alert.patient_id)
        doctor = staff.get_staff(alert.doctor_id) if alert.doctor_id else None
        told = []
        for person in _escalation_recipients(alert, rules, people):
            contact = people.get(person.id)
            recipient = dataclasses.replace(notifications.staff_recipient(person),
                                            mobile=contact.mobile if contact else "")
            sent = notifications.notify(
                "critical_alert_escalated", recipient,
                {"staff_name": person.name, "patient_name": patient.name if patient else "—",
                 "card_no": patient.card_no if patient else "—", "items": _items_text(alert),
                 "doctor": doctor.name if doctor else _("no responsible doctor"), "minutes": rules.ack_minutes,
                 "clinic": clinic.name, "url": clinic_url(clinic.slug, "records.alert_list", tier="critical")},
                idempotency_key=f"alert:{alert.id}:escalated:{person.id}", channels=("sms", "email", "inapp"),
                channel_by_channel=True)  # no mobile on file costs the SMS, not the email
            if sent:
                told.append(person.id)
        alert.escalated_at, alert.escalated_to = utcnow(), told
        audit.record("alert_escalated", patient_id=alert.patient_id, alert=alert.summary, told=told,
                     actor_label="system")
    return len(due)


def deadline_label(alert: Alert, now: datetime | None = None) -> str:
    """How the deadline reads: "by 14:30" or "overdue since 14:30" (clinic time)."""
    if alert.due_at is None:
        return ""
    when = clock.local(alert.due_at).strftime("%H:%M")
    if (now or utcnow()) > alert.due_at:
        return _("overdue since %(time)s", time=when)
    return _("acknowledge by %(time)s", time=when)



def withdraw(observation_ids: list[int]) -> None:
    """Results the lab retracted leave their open alerts (the caller commits): the alert keeps its other
    items, its tier follows what is left, and an alert left with nothing is closed as withdrawn."""
    if not observation_ids:
        return
    items = list(db.session.scalars(select(AlertItem).join(Alert, (Alert.id == AlertItem.alert_id)
                                                           & (Alert.tenant_id == AlertItem.tenant_id))
                                    .where(AlertItem.observation_id.in_(observation_ids), Alert.status == "open")))
    for alert_id in {item.alert_id for item in items}:
        alert = db.session.get_one(Alert, (items[0].tenant_id, alert_id))
        for item in items:
            if item.alert_id == alert_id:
                db.session.delete(item)
        db.session.flush()
        left = items_of([alert_id]).get(alert_id, [])
        alert.item_count, alert.summary = len(left), "; ".join(i.summary for i in left)[:200]
        if not left:
            alert.status, alert.note, alert.acknowledged_at = "withdrawn", "retracted by the lab", utcnow()
        elif not any(i.kind == "critical" for i in left):
            alert.kind, alert.due_at = "abnormal", None
