"""Intake forms that exam packages require (问诊表): requested and sent when
such a package is booked (the booking capability's ``order-placed``),
reminded the day before the visit while not submitted, and shown to the
front desk on the day's schedule.

An order's intake counts as filled once the patient has submitted that
questionnaire since the order was placed (a response asked for by an earlier
order and still open serves the new one too)."""
from datetime import date, timedelta

from sqlalchemy import and_, exists, select

from app.booking import services as booking
from app.core import audit, clock, events
from app.core.errors import FieldErrors
from app.notifications import services as notifications
from app.patients import services as patients
from app.questionnaires import delivery, library, responses
from app.questionnaires.models import PackageIntakeForm, Questionnaire, QuestionnaireResponse
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import Tenant

REMINDER = "questionnaire_reminder"
SKIP_STATUSES = ("cancelled", "refunded", "no_show")  # orders nobody is coming for


def choices() -> list[Questionnaire]:
    """What a package can require: the clinic's published intake forms."""
    return [q for q in library.all_questionnaires() if q.kind == "intake" and q.current_version]


def mapping() -> dict[int, int]:
    """package id -> the intake questionnaire it requires."""
    rows = db.session.execute(select(PackageIntakeForm.package_id, PackageIntakeForm.questionnaire_id))
    return {package_id: questionnaire_id for package_id, questionnaire_id in rows}


def required_by(package_id: int) -> Questionnaire | None:
    questionnaire_id = db.session.scalar(select(PackageIntakeForm.questionnaire_id).where(
        PackageIntakeForm.package_id == package_id))
    found = library.get(questionnaire_id) if questionnaire_id is not None else None
    if found is None or found.archived or not found.current_version:
        return None
    return found


def set_mapping(wanted: dict[int, str], *, actor_id: int | None) -> int:
    """Save the clinic's choices (package id -> questionnaire id as posted, "" for none); raises
    FieldErrors by package and changes nothing if one does not do. Returns how many changed."""
    packages = {p.id for p in booking.list_packages(active_only=False)}
    allowed = {q.id for q in choices()}
    current = mapping()
    errors: dict[str, str] = {}
    clean: dict[int, int | None] = {}
    for package_id, raw in wanted.items():
        if package_id not in packages:
            continue
        value = (raw or "").strip()
        if not value:
            clean[package_id] = None
        elif value.isdigit() and int(value) in allowed | {current.get(package_id)}:
            clean[package_id] = int(value)
        else:
            errors[f"package_{package_id}"] = "invalid"
    if errors:
        raise FieldErrors(errors)
    changed = 0
    rows = {r.package_id: r for r in db.session.scalars(select(PackageIntakeForm))}
    for package_id, questionnaire_id in clean.items():
        row = rows.get(package_id)
        if questionnaire_id is None:
            if row is not None:
                db.session.delete(row)
                changed += 1
        elif row is None:
            db.session.add(PackageIntakeForm(package_id=package_id, questionnaire_id=questionnaire_id))
            changed += 1
        elif row.questionnaire_id != questionnaire_id:
            row.questionnaire_id = questionnaire_id
            changed += 1
    if changed:
        audit.record("intake_forms_changed", actor_id=actor_id, count=changed)
    return changed


# ------------------------------------------------------------------ at booking

def _order_placed(_tenant_id: int, *, order_id: int, patient_id: int, package_id: int, **_) -> None:
    """A package that requires an intake form was booked: ask for it and send the link (in the
    booking's transaction: the message goes after its commit, and not at all on a rollback)."""
    questionnaire = required_by(package_id)
    if questionnaire is None:
        return
    patient = patients.get(patient_id)
    if patient is None:
        return
    delivery.send(questionnaire, [patient], actor_id=None, context={"order_id": order_id})


def listen() -> None:
    events.connect(booking.order_placed, _order_placed)


# ------------------------------------------------------------ the front desk

def missing(order_ids) -> set[int]:
    """Of these orders, those whose package requires an intake form the patient has not submitted
    since the order was placed. One statement, whatever the count."""
    ids = list({int(i) for i in order_ids})
    if not ids:
        return set()
    Order = booking.Order
    submitted = exists().where(
        QuestionnaireResponse.tenant_id == Order.tenant_id,
        QuestionnaireResponse.patient_id == Order.patient_id,
        QuestionnaireResponse.questionnaire_id == PackageIntakeForm.questionnaire_id,
        QuestionnaireResponse.status == "submitted",
        QuestionnaireResponse.submitted_at >= Order.created_at)
    query = (select(Order.id)
             .join(PackageIntakeForm, PackageIntakeForm.package_id == Order.package_id)
             .join(Questionnaire, and_(Questionnaire.id == PackageIntakeForm.questionnaire_id,
                                       Questionnaire.archived.is_(False), Questionnaire.current_version > 0))
             .where(Order.id.in_(ids), Order.status.not_in(SKIP_STATUSES), ~submitted))
    return set(db.session.scalars(query))


# ------------------------------------------------------------- the reminder

def _reminded(key: str) -> bool:
    Notification = notifications.Notification
    return db.session.scalar(select(Notification.id).where(Notification.idempotency_key.in_(
        [f"{key}:{channel}" for channel in ("sms", "email", "inapp")])).limit(1)) is not None


def remind() -> int:
    """Remind every patient booked for tomorrow (clinic time) whose intake form is not submitted:
    one reminder per order, however often this runs. Returns how many were sent now."""
    tomorrow: date = clock.today() + timedelta(days=1)
    due = {o.id: o for o in booking.orders.due_on(tomorrow)}
    waiting = missing(due)
    if not waiting:
        return 0
    clinic = db.session.get_one(Tenant, require_tenant_id())
    sent = 0
    for order_id in sorted(waiting):
        order = due[order_id]
        key = f"intake-reminder:{order.id}"
        if _reminded(key):
            continue
        questionnaire = required_by(order.package_id)
        patient = patients.get(order.patient_id)
        if questionnaire is None or patient is None:
            continue
        response = responses.request(questionnaire, patient, channel="link", context={"order_id": order.id})
        rows = notifications.notify(
            REMINDER, notifications.patient_recipient(patient),
            {"patient_name": patient.name, "clinic": clinic.name, "date": order.day.isoformat(),
             "url": delivery.link_url(response)},
            idempotency_key=key, channel_by_channel=True, secret_until=response.expires_at)
        if rows:
            sent += 1
    return sent
