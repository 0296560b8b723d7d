"""Consent, quiet hours and the daily cap: whether and when a message goes."""
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from app.core import clock
from app.notifications.models import Notification, NotificationPreference, NotificationSettings
from tenants.db import db

# Care messages are on unless the patient opts out (they consented at
# enrolment); marketing is off unless they opt in; security codes always go.
DEFAULT_OPT_IN = {"security": True, "care": True, "marketing": False}


def settings() -> NotificationSettings:
    row = db.session.scalar(select(NotificationSettings))
    return row or NotificationSettings(quiet_start=time(21, 0), quiet_end=time(8, 0), daily_cap=5)


def is_opted_in(patient_id: int, channel: str, category: str) -> bool:
    if category == "security":
        return True
    row = db.session.scalar(select(NotificationPreference).where(
        NotificationPreference.patient_id == patient_id, NotificationPreference.channel == channel,
        NotificationPreference.category == category))
    return DEFAULT_OPT_IN[category] if row is None else row.opted_in


def preferences(patient_id: int) -> dict[tuple[str, str], bool]:
    rows = db.session.scalars(select(NotificationPreference).where(
        NotificationPreference.patient_id == patient_id))
    chosen = {(r.channel, r.category): r.opted_in for r in rows}
    return {(channel, category): chosen.get((channel, category), DEFAULT_OPT_IN[category])
            for channel in ("sms", "email") for category in ("care", "marketing")}


def set_preference(patient_id: int, channel: str, category: str, opted_in: bool, source: str) -> None:
    row = db.session.scalar(select(NotificationPreference).where(
        NotificationPreference.patient_id == patient_id, NotificationPreference.channel == channel,
        NotificationPreference.category == category))
    if row is None:
        row = NotificationPreference(patient_id=patient_id, channel=channel, category=category)
        db.session.add(row)
    row.opted_in, row.source = opted_in, source


def _in_quiet_hours(clock: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # spans midnight


def send_time(wanted: datetime, rules: NotificationSettings) -> datetime:
    """Move a message that can wait out of the clinic's quiet hours to the next morning."""
    local = clock.local(wanted)
    if not _in_quiet_hours(local.time(), rules.quiet_start, rules.quiet_end):
        return wanted
    morning = clock.at(local.date(), rules.quiet_end)
    if morning <= wanted:
        morning = clock.at(local.date() + timedelta(days=1), rules.quiet_end)
    return morning


def over_daily_cap(recipient_type: str, recipient_id: int, day_of: datetime, rules: NotificationSettings) -> bool:
    """Messages that could wait, already planned for the recipient that clinic day."""
    start, end = clock.day_bounds(clock.local_date(day_of))
    planned = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.recipient_type == recipient_type, Notification.recipient_id == recipient_id,
        Notification.at_once.is_(False), Notification.status.in_(("pending", "sending", "sent")),
        Notification.scheduled_at >= start, Notification.scheduled_at < end)).scalar_one()
    return planned >= rules.daily_cap


def now() -> datetime:
    return clock.utcnow()
