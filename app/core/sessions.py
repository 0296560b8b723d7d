"""Server-side sessions, one mechanism for staff (app/auth) and patients
(app/portal).

The browser's cookie carries a random token; the clinic's table keeps only
its SHA-256, who the session is (``kind`` and ``subject_id``), when it
started and when it was last seen. A session ends when its person signs
out, is deactivated, changes password or role, or ends it from "my
sessions"; and by itself after idling past the clinic's limit (staff 30
minutes, portal 15) or at the absolute limit (12 hours), both clinic
settings (``SessionPolicy``). An ended session stays ended: a cookie copied
before is refused afterwards, in any browser.

``last_seen_at`` is written at most once a minute per session, in a short
transaction of its own, so reading a page does not write and a view that
rolls back does not take the write with it. Times are the clinic clock's.
"""
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from app.core.clock import utcnow
from tenants.context import require_tenant_id
from tenants.db import Model, UTCDateTime, db
from tenants.scoping import TenantOwned, TenantScoped

log = logging.getLogger(__name__)

KINDS = ("staff", "portal")
TOUCH_EVERY = timedelta(minutes=1)  # the granularity of last_seen_at, and so of the idle limit
KEEP_ENDED = timedelta(days=30)     # ended sessions are listed this long, then removed
DEFAULTS = {"staff_idle_minutes": 30, "portal_idle_minutes": 15, "absolute_hours": 12}
LIMITS = {"staff_idle_minutes": (5, 480), "portal_idle_minutes": (5, 240), "absolute_hours": (1, 24)}
_RULES_KEY = "careloop_session_rules"  # session.info: {tenant id: Rules}, read once per database session


class ServerSession(TenantScoped, Model):
    __tablename__ = "server_sessions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        Index("ix_server_sessions_tenant_subject", "tenant_id", "kind", "subject_id"),
    )

    kind: Mapped[str] = mapped_column(String(10))  # staff | portal
    subject_id: Mapped[int] = mapped_column(BigInteger)  # the staff user or the portal account
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # signed_out, ended, deactivated, role_changed, password_changed, password_reset, idle, expired
    end_reason: Mapped[str] = mapped_column(String(20), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class SessionPolicy(TenantOwned, Model):
    """The clinic's sign-in settings (no row: the defaults): how long
    sessions last, and which staff roles must use two-factor sign-in."""

    __tablename__ = "session_policies"

    staff_idle_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULTS["staff_idle_minutes"])
    portal_idle_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULTS["portal_idle_minutes"])
    absolute_hours: Mapped[int] = mapped_column(Integer, default=DEFAULTS["absolute_hours"])
    two_factor_roles: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------ policy

@dataclass(frozen=True)
class Rules:
    """The clinic's settings as the checks read them."""

    staff_idle_minutes: int
    portal_idle_minutes: int
    absolute_hours: int
    two_factor_roles: tuple[str, ...]

    def idle(self, kind: str) -> timedelta:
        return timedelta(minutes=self.staff_idle_minutes if kind == "staff" else self.portal_idle_minutes)

    @property
    def absolute(self) -> timedelta:
        return timedelta(hours=self.absolute_hours)


def policy() -> SessionPolicy:
    """The clinic's settings row (a transient row of defaults if it has none)."""
    row = db.session.scalar(select(SessionPolicy))
    return row if row is not None else SessionPolicy(two_factor_roles=[], **DEFAULTS)


def rules() -> Rules:
    """The clinic's settings, read once per database session."""
    known = db.session.info.setdefault(_RULES_KEY, {})
    tenant_id = require_tenant_id()
    if tenant_id not in known:
        row = policy()
        known[tenant_id] = Rules(row.staff_idle_minutes, row.portal_idle_minutes, row.absolute_hours,
                                 tuple(row.two_factor_roles or ()))
    return known[tenant_id]


def set_policy(*, staff_idle_minutes: int, portal_idle_minutes: int, absolute_hours: int,
               two_factor_roles: list[str]) -> dict:
    """Store the clinic's settings (the caller checks the ranges in LIMITS
    and commits); returns what changed, as {field: [before, after]}."""
    row = db.session.scalar(select(SessionPolicy))
    if row is None:
        row = SessionPolicy(two_factor_roles=[], **DEFAULTS)
        db.session.add(row)
    wanted = {"staff_idle_minutes": staff_idle_minutes, "portal_idle_minutes": portal_idle_minutes,
              "absolute_hours": absolute_hours, "two_factor_roles": sorted(two_factor_roles)}
    changes = {}
    for name, value in wanted.items():
        before = getattr(row, name)
        if before != value:
            changes[name] = [before, value]
            setattr(row, name, value)
    db.session.info.get(_RULES_KEY, {}).pop(require_tenant_id(), None)
    return changes


# ------------------------------------------------------------------ life

def start(kind: str, subject_id: int, *, ip: str = "", user_agent: str = "") -> str:
    """Open a session and return its token for the cookie (the caller commits)."""
    if kind not in KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(ServerSession).where(
        ServerSession.kind == kind, ServerSession.subject_id == subject_id,
        ServerSession.ended_at < now - KEEP_ENDED))
    db.session.add(ServerSession(kind=kind, subject_id=subject_id, token_hash=_hash(token), created_at=now,
                                 last_seen_at=now, ip=(ip or "")[:45], user_agent=(user_agent or "")[:200]))
    return token


def _timed_out(row: ServerSession, now: datetime, limits: Rules) -> str:
    if now - row.created_at >= limits.absolute:
        return "expired"
    if now - row.last_seen_at >= limits.idle(row.kind):
        return "idle"
    return ""


def load(kind: str, token: str | None) -> ServerSession | None:
    """The live session a cookie's token names in this clinic, or None. A
    session found past its idle or absolute limit is ended here."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(ServerSession).where(
        ServerSession.kind == kind, ServerSession.token_hash == _hash(token), ServerSession.ended_at.is_(None)))
    if row is None:
        return None
    now = utcnow()
    reason = _timed_out(row, now, rules())
    if reason:
        _aside(update(ServerSession).where(ServerSession.id == row.id, ServerSession.ended_at.is_(None))
               .values(ended_at=now, end_reason=reason))
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        _aside(update(ServerSession).where(ServerSession.id == row.id).values(last_seen_at=now))
        set_committed_value(row, "last_seen_at", now)
    return row


def _aside(statement) -> None:
    """One small write in a transaction of its own (row-level security and
    the tenant guard hold there too). Best effort: a failed touch is logged."""
    try:
        with Session(db.engine) as side:
            side.execute(statement, execution_options={"synchronize_session": False})
            side.commit()
    except SQLAlchemyError:
        log.warning("could not record session activity", exc_info=True)


def _end(*conditions, reason: str) -> int:
    result = db.session.execute(
        update(ServerSession).where(ServerSession.ended_at.is_(None), *conditions)
        .values(ended_at=utcnow(), end_reason=reason), execution_options={"synchronize_session": "fetch"})
    return getattr(result, "rowcount", 0) or 0


def end(kind: str, token: str | None, reason: str = "signed_out") -> None:
    """End the session a token names (the caller commits)."""
    if token:
        _end(ServerSession.kind == kind, ServerSession.token_hash == _hash(token), reason=reason)


def end_all(kind: str, subject_id: int, *, reason: str, keep_id: int | None = None) -> int:
    """End every live session of one person, but ``keep_id`` (the caller
    commits); how many were ended."""
    conditions = [ServerSession.kind == kind, ServerSession.subject_id == subject_id]
    if keep_id is not None:
        conditions.append(ServerSession.id != keep_id)
    return _end(*conditions, reason=reason)


def end_one(kind: str, subject_id: int, session_id: int, reason: str = "ended") -> bool:
    """End one of this person's sessions by its id; False if it is not theirs
    or not live."""
    return _end(ServerSession.kind == kind, ServerSession.subject_id == subject_id,
                ServerSession.id == session_id, reason=reason) == 1


def live(kind: str, subject_id: int) -> list[ServerSession]:
    """One person's sessions that still work, newest activity first."""
    rows = db.session.scalars(select(ServerSession).where(
        ServerSession.kind == kind, ServerSession.subject_id == subject_id, ServerSession.ended_at.is_(None))
        .order_by(ServerSession.last_seen_at.desc(), ServerSession.id.desc())).all()
    now, limits = utcnow(), rules()
    return [row for row in rows if not _timed_out(row, now, limits)]
