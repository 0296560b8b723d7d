"""Work tied to the database transaction, kept on the session: what runs
just before it commits, after it commits, or after it rolls back.

This is the one place that hooks the Session's transaction events. A
capability that must act when a transaction ends (queue a job once the rows
it reads are committed, start follow-up plans for every report of an import
at once) puts the work here:

- ``after_commit(fn, *args, key=...)``: run after the outermost commit (a
  job never sees rows that are not there yet); nothing runs on rollback.
- ``gather(fn, item, key=...)``: collect items and call ``fn(items)`` once,
  just before the outermost commit, inside the transaction (what it writes
  commits with the rest).
- ``after_rollback(fn, *args, key=...)``: run if the work's transaction
  (or a savepoint it was queued in) rolls back.

Work queued inside a savepoint belongs to it: the savepoint's rollback drops
it (and runs its rollback work); its release leaves it to the outer
transaction. A ``key`` queues a piece of work once: a second call with the
same key joins the first, unless the first was queued in a savepoint that the
second is not inside (then it could be rolled back without the second);
rollback work is queued once per savepoint.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tenants.db import db

_WORK = "careloop_transaction_work"


@dataclass
class _Work:
    phase: str  # before | after | rollback
    fn: Callable[..., Any]
    args: tuple
    key: Any
    owner: SessionTransaction | None  # the (savepoint) transaction it was queued in
    items: list = field(default_factory=list)  # gathered: (owner, item)


def _queue(session) -> list[_Work]:
    return session.info.setdefault(_WORK, [])


def _owner(session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _find(session, phase: str, key) -> _Work | None:
    """Work of this phase and key that lasts as long as the current transaction
    does (rollback work: of the current transaction itself, so that each
    savepoint's rollback runs it)."""
    if key is None:
        return None
    owner = _owner(session)
    for work in _queue(session):
        if work.phase != phase or work.key != key:
            continue
        if work.owner is owner or (phase != "rollback" and (work.owner is None or _within(owner, work.owner))):
            return work
    return None


def after_commit(fn: Callable[..., Any], *args, key=None, session=None) -> None:
    session = session or db.session()
    if _find(session, "after", key) is None:
        _queue(session).append(_Work("after", fn, args, key, _owner(session)))


def after_rollback(fn: Callable[..., Any], *args, key=None, session=None) -> None:
    session = session or db.session()
    if _find(session, "rollback", key) is None:
        _queue(session).append(_Work("rollback", fn, args, key, _owner(session)))


def gather(fn: Callable[[list], Any], item, *, key, session=None) -> None:
    """Add ``item`` to the transaction's collection ``key``; ``fn(items)`` runs before commit."""
    session = session or db.session()
    work = _find(session, "before", key)
    if work is None:
        work = _Work("before", fn, (), key, _owner(session))
        _queue(session).append(work)
    work.items.append((_owner(session), item))


def pending(session=None) -> list[tuple[str, Any]]:
    """(phase, key) of the work now queued (for tests and debugging)."""
    return [(w.phase, w.key) for w in _queue(session or db.session())]


# ------------------------------------------------------------- the hooks

def _before_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    # gathered work may gather more (a plan started by an import queues its messages): until none is left
    while True:
        ready = [w for w in _queue(session) if w.phase == "before"]
        if not ready:
            return
        session.flush()
        session.info[_WORK] = [w for w in _queue(session) if w.phase != "before"]
        for work in ready:
            if work.items:
                work.fn([item for _owner_, item in work.items])
        session.flush()


def _after_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint released: its work joins the transaction around it
        released = session.get_nested_transaction()
        for work in session.info.get(_WORK, []):
            if work.owner is released:
                work.owner = released.parent
            work.items = [(released.parent if owner is released else owner, item) for owner, item in work.items]
        return
    queued = session.info.pop(_WORK, [])
    for work in queued:
        if work.phase == "after":
            work.fn(*work.args)


def _within(owner: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while owner is not None:
        if owner is ended:
            return True
        owner = owner.parent
    return False


def _after_soft_rollback(session, previous_transaction: SessionTransaction) -> None:
    queued = session.info.get(_WORK, [])
    if previous_transaction.nested:
        dropped = [w for w in queued if _within(w.owner, previous_transaction)]
        session.info[_WORK] = [w for w in queued if not _within(w.owner, previous_transaction)]
        for work in session.info[_WORK]:  # what the savepoint gathered into older work goes too
            work.items = [(owner, item) for owner, item in work.items if not _within(owner, previous_transaction)]
    else:
        dropped = session.info.pop(_WORK, [])
    for work in dropped:
        if work.phase == "rollback":
            work.fn(*work.args)


def _after_transaction_end(session, transaction: SessionTransaction) -> None:
    """A transaction closed with neither commit nor rollback (the session was
    closed): what was queued for it is dropped as on a rollback."""
    if transaction.parent is not None or not session.info.get(_WORK):
        return
    queued = session.info[_WORK]
    dropped = [w for w in queued if _within(w.owner, transaction)]
    session.info[_WORK] = [w for w in queued if not _within(w.owner, transaction)]
    for work in dropped:
        if work.phase == "rollback":
            work.fn(*work.args)


def install(session_class=Session) -> None:
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "before_commit", _before_commit)
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_soft_rollback", _after_soft_rollback)
        event.listen(session_class, "after_transaction_end", _after_transaction_end)
