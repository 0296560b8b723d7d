"""Satisfaction surveys and service recovery (回访处理).

A clinic that turns them on sends its satisfaction questionnaire (the one under
the key its settings name, "satisfaction" unless changed) after a completed
exam (``order-completed``) and/or a completed follow-up contact
(``followup-recorded``), a few hours later (the outbox's send time), and at
most once per patient in N days. The N-day rule is one guarded upsert on the
patient's gate row: two completions at the same moment queue behind the same
row and only the first sends. The survey is asked for once the completion has
committed, in a transaction of its own: a survey that cannot be sent (a
message that cannot be filled, a channel that fails) is logged and never
undoes the completed exam or contact.

A submitted survey with a likelihood-to-recommend of 0-6 (a detractor), or
with the clinic's chosen item below its threshold, opens a recovery case for
the admins, who follow up and close it with a note.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.auth import services as staff
from app.booking import services as booking
from app.core import audit, clock, events, txn
from app.core.errors import FieldErrors
from app.core.urls import clinic_url
from app.followups import services as followups
from app.notifications import services as notifications
from app.patients import services as patients
from app.questionnaires import delivery, library, schema
from app.questionnaires.models import QuestionnaireResponse, RecoveryCase, SurveyGate, SurveySettings
from app.questionnaires.signals import response_submitted
from tenants.context import require_tenant_id, tenant_context
from tenants.db import db
from tenants.models import Tenant

log = logging.getLogger(__name__)

RECOMMEND = "recommend"        # the 0-10 likelihood-to-recommend score
DETRACTOR_MAX = 6              # 0-6 detractors, 7-8 passives, 9-10 promoters (the survey's bands)
PROMOTER_MIN = 9
MAX_DELAY_HOURS = 24 * 7       # the link stays open LINK_DAYS from its request: send it well before
MAX_EVERY_DAYS = 3650
RESOLUTION_MAX = 2000
TEMPLATE = "satisfaction_low_score"


# ------------------------------------------------------------------ settings

def settings() -> SurveySettings:
    """The clinic's settings (defaults, not stored, until first saved)."""
    found = db.session.scalar(select(SurveySettings))
    if found is not None:
        return found
    return SurveySettings(enabled=False, questionnaire_key="satisfaction", after_exam=True, after_followup=False,
                          delay_hours=24, every_days=90, low_item="", low_below=None)


@dataclass
class SettingsData:
    enabled: bool = False
    questionnaire_key: str = "satisfaction"
    after_exam: bool = False
    after_followup: bool = False
    delay_hours: str = "24"
    every_days: str = "90"
    low_item: str = ""
    low_below: str = ""


def _whole(text: str, low: int, high: int, errors: dict, field: str) -> int:
    try:
        number = int((text or "").strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        errors[field] = _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
        return low
    return number


def save_settings(data: SettingsData, *, actor_id: int) -> SurveySettings:
    """Check and store the settings (the caller commits); FieldErrors by form field."""
    errors: dict[str, str] = {}
    key = (data.questionnaire_key or "").strip()
    questionnaire = library.by_key(key) if key else None
    if questionnaire is None or not questionnaire.current_version:
        errors["questionnaire_key"] = _("Choose a published questionnaire.")
    delay = _whole(data.delay_hours, 0, MAX_DELAY_HOURS, errors, "delay_hours")
    every = _whole(data.every_days, 1, MAX_EVERY_DAYS, errors, "every_days")
    if data.enabled and not (data.after_exam or data.after_followup):
        errors["after_exam"] = _("Choose when the survey is sent.")
    item = (data.low_item or "").strip()
    below: float | None = None
    if item:
        if questionnaire is not None and item not in item_choices(questionnaire):
            errors["low_item"] = _("Choose one of the survey's scores or questions.")
        try:
            below = float((data.low_below or "").strip().replace("，", "."))
            if below != below or below in (float("inf"), float("-inf")) or abs(below) > 1000:
                raise ValueError
        except ValueError:
            errors["low_below"] = _("Enter the value below which a case opens.")
    if errors:
        raise FieldErrors(errors)
    row = db.session.scalar(select(SurveySettings))
    if row is None:
        row = SurveySettings()
        db.session.add(row)
    row.enabled, row.questionnaire_key = bool(data.enabled), key
    row.after_exam, row.after_followup = bool(data.after_exam), bool(data.after_followup)
    row.delay_hours, row.every_days = delay, every
    row.low_item, row.low_below = item, below if item else None
    row.updated_by = actor_id
    db.session.flush()
    audit.record("questionnaire_survey_settings_saved", actor_id=actor_id, questionnaire=key, active=row.enabled)
    return row


def item_choices(questionnaire) -> dict[str, dict]:
    """The survey's scores and scored questions a threshold may name: key -> its label."""
    version = library.current_version(questionnaire)
    if version is None:
        return {}
    defn = version.definition
    found = {s["key"]: s.get("label", {}) for s in defn.get("scores", []) if s["key"] != RECOMMEND}
    for _section, question in schema.iter_questions(defn):
        if question.get("type") in schema.CHOICE_TYPES and any(
                o.get("score") is not None for o in question.get("options") or []):
            found.setdefault(question["key"], question.get("text", {}))
    return found


def survey_questionnaire():
    """The clinic's survey questionnaire (by its settings' key), or None."""
    return library.by_key(settings().questionnaire_key)


# ------------------------------------------------------------------ sending

def _open_gate(patient_id: int, now: datetime, every_days: int) -> bool:
    """Move the patient's gate to now unless it moved within every_days: one statement, so of two
    transactions at once the second waits for the first's row and then finds it too recent."""
    values = {"tenant_id": require_tenant_id(), "patient_id": patient_id, "last_at": now}
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SurveyGate).values(**values)
    guarded = statement.on_conflict_do_update(
        index_elements=[SurveyGate.tenant_id, SurveyGate.patient_id],
        set_={"last_at": statement.excluded.last_at},
        where=SurveyGate.last_at <= now - timedelta(days=every_days),
    ).returning(SurveyGate.patient_id)
    return db.session.execute(guarded).first() is not None


def trigger(patient_id: int, *, context: dict) -> QuestionnaireResponse | None:
    """Send the survey for a completed visit if the clinic's settings and the N-day rule allow
    (the caller's transaction; after a completion, one of its own). Returns the response asked for, or None."""
    rules = settings()
    if not rules.enabled:
        return None
    questionnaire = library.by_key(rules.questionnaire_key)
    if questionnaire is None or questionnaire.archived or not questionnaire.current_version:
        log.warning("satisfaction surveys are on but %r is not a published questionnaire", rules.questionnaire_key)
        return None
    patient = patients.get(patient_id)
    if patient is None or patient.archived_at is not None:
        return None
    now = clock.utcnow()
    if not _open_gate(patient.id, now, rules.every_days):
        return None
    delivery.send(questionnaire, [patient], actor_id=None, context=context,
                  at=now + timedelta(hours=rules.delay_hours))
    return db.session.scalar(select(QuestionnaireResponse).where(
        QuestionnaireResponse.patient_id == patient.id, QuestionnaireResponse.questionnaire_id == questionnaire.id)
        .order_by(QuestionnaireResponse.requested_at.desc()).limit(1))


def _after_order(tenant_id: int, *, order_id: int, patient_id: int, **_ids) -> None:
    if settings().after_exam:
        _trigger_after_commit(tenant_id, patient_id, {"order_id": order_id})


def _after_followup(tenant_id: int, *, task_id: int, patient_id: int, completed: bool = False, **_ids) -> None:
    if completed and settings().after_followup:
        _trigger_after_commit(tenant_id, patient_id, {"task_id": task_id})


def _trigger_after_commit(tenant_id: int, patient_id: int, context: dict) -> None:
    """Ask for the survey once the completing transaction has committed (nothing if it rolls back); one
    request per patient and transaction, and the gate keeps it to one in N days."""
    txn.after_commit(_trigger_on_its_own, tenant_id, patient_id, context,
                     key=("questionnaires:satisfaction", tenant_id, patient_id))


def _trigger_on_its_own(tenant_id: int, patient_id: int, context: dict) -> None:
    """trigger() in a transaction of its own: a new app context has a session of its own (the completing
    one has just committed and emits no more SQL). A failure rolls back the survey (gate included, so a later
    completion may ask again) and is logged; the completion stands."""
    with current_app.app_context(), tenant_context(tenant_id):
        try:
            trigger(patient_id, context=context)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("the satisfaction survey for patient %s after %s could not be requested", patient_id,
                          context)


# ------------------------------------------------------------------ recovery

def _low_item_value(rules: SurveySettings, defn: dict, scores: dict, answers: dict) -> float | None:
    if not rules.low_item or rules.low_below is None:
        return None
    if rules.low_item in scores:
        value = scores[rules.low_item]
    else:
        question = schema.questions_by_key(defn).get(rules.low_item)
        answer = answers.get(rules.low_item)
        value = None if question is None or isinstance(answer, list | dict) or answer is None \
            else schema.option_score(question, answer)
    if value is None or value >= rules.low_below:
        return None
    return float(value)


def comment_of(defn: dict, answers: dict) -> str:
    """The patient's free-text answers to the survey, one a line."""
    texts = [str(answers[q["key"]]).strip() for _s, q in schema.iter_questions(defn)
             if q.get("type") in ("text", "textarea") and answers.get(q["key"])]
    return "\n".join(t for t in texts if t)


def _after_submission(_tenant_id: int, *, response_id: int, patient_id: int, questionnaire_key: str,
                      scores: dict, **_ids) -> None:
    rules = settings()
    if questionnaire_key != rules.questionnaire_key:
        return
    response = db.session.scalar(select(QuestionnaireResponse).where(QuestionnaireResponse.id == response_id))
    if response is None:
        return
    version = library.version(response.version_id)
    defn = version.definition if version is not None else {}
    answers = response.answers or {}
    recommend = scores.get(RECOMMEND)
    low_item = _low_item_value(rules, defn, scores, answers)
    if recommend is not None and recommend <= DETRACTOR_MAX:
        reason = RECOMMEND
    elif low_item is not None:
        reason = rules.low_item
    else:
        return
    context = response.context or {}
    recovery = RecoveryCase(response_id=response.id, patient_id=patient_id, recommend=recommend, reason=reason,
                            item_value=low_item, comment=comment_of(defn, answers)[:4000],
                            order_id=_id(context.get("order_id")), task_id=_id(context.get("task_id")),
                            status="open")
    db.session.add(recovery)
    db.session.flush()
    _tell_admins(recovery, patient_id)


def _id(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tell_admins(recovery: RecoveryCase, patient_id: int) -> None:
    """An in-app message to each active owner and admin: a low score, nothing of the answers."""
    patient = patients.get(patient_id)
    if patient is None:
        return
    clinic = db.session.get_one(Tenant, require_tenant_id())
    url = clinic_url(clinic.slug, "satisfaction.case", case_id=recovery.id)
    for admin in staff.active_staff(("owner", "admin")):
        notifications.notify(TEMPLATE, notifications.staff_recipient(admin),
                             {"patient_name": patient.name, "card_no": patient.card_no, "clinic": clinic.name,
                              "url": url},
                             idempotency_key=f"recovery:{recovery.id}:{admin.id}", channels=("inapp",),
                             channel_by_channel=True)


def cases(*, status: str = "") -> list[RecoveryCase]:
    """Open first (oldest first: they have waited longest), then closed (newest first)."""
    query = select(RecoveryCase)
    if status in ("open", "closed"):
        query = query.where(RecoveryCase.status == status)
    return list(db.session.scalars(query.order_by(
        case((RecoveryCase.status == "open", 0), else_=1),
        case((RecoveryCase.status == "open", RecoveryCase.created_at)),
        RecoveryCase.created_at.desc()).limit(500)))


def get_case(case_id: int) -> RecoveryCase | None:
    return db.session.scalar(select(RecoveryCase).where(RecoveryCase.id == case_id))


def open_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCase).where(RecoveryCase.status == "open")) or 0


def close(recovery: RecoveryCase, resolution: str, *, actor_id: int) -> None:
    """Close the case with what was done (the caller commits); FieldErrors when the note is missing,
    too long, or the case is closed already."""
    note = (resolution or "").strip()
    if recovery.status != "open":
        raise FieldErrors({"resolution": _("This case is closed already.")})
    if not note:
        raise FieldErrors({"resolution": _("Write down what was done for the patient.")})
    if len(note) > RESOLUTION_MAX:
        raise FieldErrors({"resolution": _("Use at most %(max)d characters.", max=RESOLUTION_MAX)})
    recovery.status, recovery.resolution = "closed", note
    recovery.closed_by, recovery.closed_at = actor_id, clock.utcnow()
    audit.record("questionnaire_recovery_closed", patient_id=recovery.patient_id, actor_id=actor_id)


def listen() -> None:
    events.connect(booking.order_completed, _after_order)
    events.connect(followups.followup_recorded, _after_followup)
    events.connect(response_submitted, _after_submission)
