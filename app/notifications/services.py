"""notify() and the outbox's life: claim, deliver, retry, recover.

``notify`` writes outbox rows inside the caller's transaction; the send jobs
are enqueued only after that transaction commits (a rolled-back action never
notifies). A send claims its row first (pending -> sending, one winner), so a
duplicated or retried job never delivers twice; ``stage`` tells recovery how
far a send got when its worker died.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core import crypto, identity, txn
from app.notifications import labels, patient_inbox, policy, queueing, sealed, templates  # noqa: F401  (patient_inbox: the portal's; labels: what others write of a channel)
from app.notifications.models import Notification
from app.patients import services as patients
from tenants.context import require_tenant_id
from tenants.db import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SECRET_MINUTES = 10  # a secret message not sent by then is not sent at all


class NotifyError(ValueError):
    """The message cannot be created: a bad address or a broken template."""


@dataclass
class Recipient:
    type: str  # "patient" or "staff"
    id: int
    name: str
    email: str = ""
    mobile: str = ""
    locale: str = "zh_CN"


def patient_recipient(patient) -> Recipient:
    mobile, _id = patients.identifiers(patient)
    return Recipient("patient", patient.id, patient.name, email=patient.email or "", mobile=mobile or "",
                     locale=patient.preferred_locale or "zh_CN")


def staff_recipient(user) -> Recipient:
    return Recipient("staff", user.id, user.name, email=user.email)


# ------------------------------------------------------------------ create

def _address(recipient: Recipient, channel: str) -> str:
    if channel == "inapp":
        if recipient.type != "staff":
            raise NotifyError(_("In-app messages go to staff only."))
        return ""
    if channel == "email":
        try:
            return validate_email(recipient.email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise NotifyError(_("Cannot email %(name)s: %(reason)s", name=recipient.name, reason=str(exc))) from exc
    if channel == "sms":
        mobile = identity.normalise_mobile(recipient.mobile)
        if not identity.is_mobile(mobile):
            raise NotifyError(_("Cannot text %(name)s: %(number)s is not a mainland mobile number.",
                                name=recipient.name, number=mobile or "—"))
        return mobile
    raise NotifyError(f"unknown channel {channel!r}")


def _mask(channel: str, address: str) -> str:
    if channel == "sms":
        return identity.mask_mobile(address)
    if channel == "email":
        local, _at, domain = address.partition("@")
        return f"{local[:2]}***@{domain}"
    return ""


def reachable(recipient: Recipient, channel: str) -> bool:
    """The recipient has an address on the channel."""
    return {"email": bool(recipient.email), "sms": bool(recipient.mobile),
            "inapp": recipient.type == "staff"}[channel]


def notify(template_key: str, recipient: Recipient, variables: dict, *, idempotency_key: str,
           channels: tuple[str, ...] | None = None, at_once: bool | None = None,
           at: datetime | None = None, actor_id: int | None = None, thread: str = "",
           channel_by_channel: bool = False, secret_until: datetime | None = None) -> list[Notification]:
    """Create one outbox row per channel (the caller commits). With no
    ``channels``, every channel of the template the recipient can be reached on.
    A channel that cannot be used (a bad address, a template that cannot be
    filled in) raises NotifyError; with ``channel_by_channel`` it is logged
    and skipped, and the other channels still get their message.

    Messages the template marks ``at_once`` (a sign-in code, an urgent alert,
    the notice of what the patient has just done) go at once; the rest wait
    for the end of the clinic's quiet hours and count against the daily cap.
    A message of a ``thread`` (say, one order's notices) cancels the thread's
    messages to the same recipient and channel that have not gone out yet:
    a confirmation followed by a change is not delivered late beside it.

    The template's secret variables (a sign-in code) are stored masked; the
    real text goes sealed until the send and is never sent after
    ``secret_until`` (default: SECRET_MINUTES from now). See sealed.py."""
    definition = templates.definition(template_key)
    if definition.secret and secret_until is None:
        secret_until = policy.now() + timedelta(minutes=SECRET_MINUTES)
    wanted = channels or tuple(c for c in definition.channels if reachable(recipient, c))
    at_once = definition.at_once if at_once is None else at_once
    rules = policy.settings()
    rows = []
    for channel in wanted:
        if channel not in definition.channels:
            raise NotifyError(f"template {template_key} has no {channel} channel")
        try:
            rows.append(_one(definition, template_key, recipient, variables, channel,
                             key=f"{idempotency_key}:{channel}"[:200], at_once=at_once, rules=rules, at=at,
                             actor_id=actor_id, thread=thread, secret_until=secret_until))
        except NotifyError as exc:
            if not channel_by_channel:
                raise
            log.warning("no %s %s for %s %s: %s", channel, template_key, recipient.type, recipient.id, exc)
    return rows


def _one(definition, template_key: str, recipient: Recipient, variables: dict, channel: str, *, key: str,
         at_once: bool, rules, at: datetime | None, actor_id: int | None, thread: str,
         secret_until: datetime | None = None) -> Notification:
    existing = db.session.scalar(select(Notification).where(Notification.idempotency_key == key))
    if existing is not None:
        return existing
    address = _address(recipient, channel)
    wording = templates.wording(template_key, channel, recipient.locale)
    if wording is None:  # notify() checked that the template has this channel
        raise NotifyError(f"template {template_key} has no {channel} channel")
    try:
        rendered = templates.render(wording, variables)
        stored = templates.render(wording, sealed.masked(variables, definition.secret)) if definition.secret \
            else rendered
    except templates.TemplateError as exc:
        raise NotifyError(_("The %(key)s template cannot be filled in: %(error)s",
                            key=template_key, error=exc.message)) from exc
    params = {k: str(variables[k]) for k in definition.variables if k in variables}
    row = Notification(
        idempotency_key=key, recipient_type=recipient.type, recipient_id=recipient.id, channel=channel,
        address_enc=crypto.encrypt(address, require_tenant_id()) if address else None,
        address_masked=_mask(channel, address), template_key=template_key, locale=recipient.locale,
        category=definition.category, at_once=at_once, subject=stored.subject, body_text=stored.text,
        provider_params=sealed.masked(params, definition.secret), created_by=actor_id, thread_key=thread[:120],
    )
    if definition.secret:
        row.secret_enc = sealed.seal(rendered.subject, rendered.text, params, require_tenant_id())
        row.secret_until = secret_until
    _apply_policy(row, recipient, rules, at or policy.now())
    if row.status == "cancelled":
        sealed.wipe(row)
    try:
        with db.session.begin_nested():
            if thread:
                _supersede(row)
            db.session.add(row)
    except IntegrityError:  # the same key committed meanwhile by another request
        existing = db.session.scalar(select(Notification).where(Notification.idempotency_key == key))
        if existing is None:  # another conflict than the key's
            raise
        return existing
    _enqueue_after_commit(row)
    return row


def _supersede(newer: Notification) -> None:
    """Cancel the thread's messages to this recipient and channel still waiting to go."""
    db.session.execute(update(Notification).where(
        Notification.thread_key == newer.thread_key, Notification.recipient_type == newer.recipient_type,
        Notification.recipient_id == newer.recipient_id, Notification.channel == newer.channel,
        Notification.status == "pending").values(
        status="cancelled", last_error=f"superseded by a newer message ({newer.template_key})"[:500])
        .execution_options(synchronize_session="fetch"))


def _apply_policy(row: Notification, recipient: Recipient, rules, wanted: datetime) -> None:
    if recipient.type == "patient" and not policy.is_opted_in(recipient.id, row.channel, row.category):
        row.status, row.last_error = "cancelled", "recipient opted out of this channel"
        row.scheduled_at = wanted
        return
    row.scheduled_at = wanted if row.at_once else policy.send_time(wanted, rules)
    if not row.at_once and policy.over_daily_cap(recipient.type, recipient.id, row.scheduled_at, rules):
        row.status, row.last_error = "cancelled", "daily message limit for this recipient reached"


# ---------------------------------------------------- enqueue after commit

def _enqueue_after_commit(row: Notification) -> None:
    if row.status == "pending":
        txn.after_commit(_enqueue, row, key=("notifications:send", row.tenant_id, row.id))


def _enqueue(row: Notification) -> None:
    queueing.enqueue_send(row.tenant_id, row.id, row.scheduled_at)


# ------------------------------------------------------------- the send

def claim(notification_id: int) -> Notification | None:
    """pending -> sending for exactly one caller; commit so others see it.
    Returns the claimed row as the UPDATE returned it (no second read)."""
    now = policy.now()
    row = db.session.scalars(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == "pending",
               Notification.scheduled_at <= now)
        .values(status="sending", stage="claimed", attempts=Notification.attempts + 1, claimed_at=now)
        .returning(Notification),
        execution_options={"synchronize_session": False},  # RETURNING loads the row; nothing to match in memory
    ).first()
    db.session.commit()
    return row


def mark_stage(row: Notification, stage: str) -> None:
    row.stage = stage
    db.session.commit()


def mark_sent(row: Notification, provider_id: str) -> None:
    row.status, row.stage, row.provider_id, row.sent_at = "sent", "done", provider_id[:120], policy.now()
    row.last_error = ""
    sealed.wipe(row)
    db.session.commit()


def fail(row: Notification, error: str) -> None:
    row.status, row.stage, row.last_error = "failed", "", error[:500]
    sealed.wipe(row)
    db.session.commit()


def retry_later(row: Notification, error: str) -> None:
    """A transient failure: back off and try again, up to MAX_ATTEMPTS."""
    if row.attempts >= MAX_ATTEMPTS:
        fail(row, f"gave up after {row.attempts} attempts: {error}")
        return
    base = current_app.config.get("NOTIFY_BACKOFF_SECONDS", 15)
    row.status, row.stage, row.last_error = "pending", "", error[:500]
    row.scheduled_at = policy.now() + timedelta(seconds=base * 2 ** (row.attempts - 1))
    _enqueue_after_commit(row)
    db.session.commit()


def address_of(row: Notification) -> str:
    return crypto.decrypt(row.address_enc, row.tenant_id) or ""


# ------------------------------------------------------------ staff actions

def get(notification_id: int) -> Notification | None:
    return db.session.scalar(select(Notification).where(Notification.id == notification_id))


def outgoing(row: Notification) -> sealed.Outgoing:
    """The claimed row as it goes out, its secret put back in memory;
    raises sealed.Unsendable for a secret gone or expired."""
    return sealed.reveal(row, policy.now())


def can_resend(row: Notification) -> bool:
    """Failed or cancelled, and no secret: a sign-in code is never sent again
    (the patient asks for a new one)."""
    return row.status in ("failed", "cancelled") and row.secret_until is None


def resend(row: Notification) -> bool:
    if not can_resend(row):
        return False
    row.status, row.stage, row.attempts, row.last_error = "pending", "", 0, ""
    row.scheduled_at = policy.now()
    _enqueue_after_commit(row)
    return True


def cancel(row: Notification) -> bool:
    if row.status != "pending":
        return False
    row.status, row.last_error = "cancelled", "cancelled by staff"
    sealed.wipe(row)
    return True


def outbox(*, status: str = "", channel: str = "", patient_id: int | None = None,
           limit: int = 100) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        query = query.where(Notification.status == status)
    if channel:
        query = query.where(Notification.channel == channel)
    if patient_id:
        query = query.where(Notification.recipient_type == "patient", Notification.recipient_id == patient_id)
    return list(db.session.scalars(query))


# ------------------------------------------------------------------ inbox

def _inbox_query(staff_id: int):
    return select(Notification).where(
        Notification.recipient_type == "staff", Notification.recipient_id == staff_id,
        Notification.channel == "inapp", Notification.status == "sent")


def inbox(staff_id: int, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(_inbox_query(staff_id).order_by(Notification.id.desc()).limit(limit)))


def unread_count(staff_id: int) -> int:
    from sqlalchemy import func

    return db.session.execute(select(func.count()).select_from(
        _inbox_query(staff_id).where(Notification.read_at.is_(None)).subquery())).scalar_one()


def mark_read(staff_id: int, notification_id: int) -> bool:
    row = db.session.scalar(_inbox_query(staff_id).where(Notification.id == notification_id))
    if row is None:
        return False
    row.read_at = row.read_at or policy.now()
    return True


def mark_read_by_key(prefix: str) -> int:
    """Mark read every staff in-app message whose idempotency key starts with
    ``prefix`` (whoever received it): what a message asked for is done, say
    an alert acknowledged. The caller commits. Returns how many."""
    result = db.session.execute(update(Notification).where(
        Notification.recipient_type == "staff", Notification.channel == "inapp",
        Notification.idempotency_key.startswith(prefix, autoescape=True), Notification.read_at.is_(None))
        .values(read_at=policy.now()).execution_options(synchronize_session=False))
    return getattr(result, "rowcount", 0) or 0

