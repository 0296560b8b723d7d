"""SQLite (the embedded first-run database): foreign keys only when asked,
and savepoints that a rollback can undo.

The sqlite3 module begins a transaction only before a data-changing
statement, not before SAVEPOINT. A SAVEPOINT outside a transaction starts
one of its own, which its RELEASE then commits: a later rollback of the
outer transaction could not undo it. So a savepoint opened with no
transaction begins one first."""
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _on_connect(dbapi_connection, _record) -> None:
    if _is_sqlite(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _on_savepoint(connection, _name) -> None:
    if connection.dialect.name == "sqlite":
        dbapi_connection = connection.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")


def register(app) -> None:
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "savepoint", _on_savepoint)
