"""The one SQLAlchemy object, shared by the tenancy layer and the product,
the one column type for moments in time, and the owner's session for
platform writes."""
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    if TYPE_CHECKING:  # every model maps a Table (SQLAlchemy types __table__ as any FromClause)
        __table__: ClassVar[Table]


_OWNER_BIND = "careloop_owner_bind"


class CareLoopSession(FlaskSession):
    """Flask-SQLAlchemy's session; one opened by ``as_owner()`` connects as
    the database owner instead of the application role."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs: Any):
        owner = self.info.get(_OWNER_BIND)
        if owner is not None and bind is None:
            return owner
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": CareLoopSession})

# Models subclass ``Model``: it is ``db.Model`` at run time, and for the type
# checker the declarative base that ``db.Model`` is made from. mypy cannot take
# an attribute of an object as a base class ("Name db.Model is not defined",
# python/mypy#8603), and a model built on it would be typed as Any.
if TYPE_CHECKING:
    Model: TypeAlias = Base
else:
    Model = db.Model


class UTCDateTime(TypeDecorator):
    """A moment in time, always UTC and always aware, on PostgreSQL
    (``timestamptz``) and SQLite alike. SQLite keeps the text with its
    ``+00:00`` offset; a naive value is refused rather than guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True
    _SQLITE = sqlite.DATETIME(
        storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d+00:00",
        regexp=r"(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)(?:\.(\d+))?(?:\+00:00)?$",
    )

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(self._SQLITE)
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times are stored with their offset")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def owner_engine() -> Engine:
    """The engine of DATABASE_OWNER_URL, made once per application (the
    application's own engine when both URLs are the same, as on SQLite)."""
    app = current_app
    url = app.config.get("DATABASE_OWNER_URL")
    if not url or url == app.config["SQLALCHEMY_DATABASE_URI"]:
        return db.engine
    engine = app.extensions.get("careloop_owner_engine")
    if engine is None:
        options = {k: v for k, v in app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).items()
                   if k in ("pool_pre_ping", "connect_args")}
        engine = app.extensions["careloop_owner_engine"] = create_engine(url, **options)
    return engine


@contextmanager
def as_owner() -> Iterator[Any]:
    """Platform writes: the application role may only read ``tenants`` and
    ``domains`` (the host-to-clinic map has no row-level security), so
    creating or suspending a clinic runs in a session of its own, connected
    as the database owner, in an application context of its own. Row-level
    security still holds there (FORCE applies to the owner too): the block
    writes a clinic's rows inside ``tenant_context``. ``db.session`` inside
    the block is that session; the caller's session is left as it was."""
    with current_app.app_context():
        db.session.info[_OWNER_BIND] = owner_engine()
        try:
            yield db.session
        finally:
            db.session.rollback()  # what the block did not commit is not kept
