"""The one SQLAlchemy object, shared by the tenancy layer and the product,
and the one column type for moments in time."""
from datetime import timezone
from typing import TYPE_CHECKING, ClassVar, TypeAlias

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Table
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


db = SQLAlchemy(model_class=Base)

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
