"""Inserting many rows (tens of thousands) into one table quickly.

On PostgreSQL the rows travel as one array per column and the server unnests
them (``INSERT ... SELECT ... FROM unnest(...)``): one short statement per
chunk, nothing per row to build or compile. A column with the same value in
every row is sent once. Elsewhere (SQLite in development) an executemany.
"""
from sqlalchemy import String, Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

from tenants.db import db

CHUNK = 50_000
EXECUTEMANY_CHUNK = 1000


def conflict_insert(table):
    """An INSERT in the session's dialect that takes ON CONFLICT clauses
    (PostgreSQL's and SQLite's share their shape)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def insert_rows(table: Table, rows: list[dict], *, skip_conflicts: tuple[list[str], str] | None = None,
                returning: tuple[str, ...] = ()) -> list[tuple]:
    """Insert ``rows`` (dicts with the same keys). ``skip_conflicts`` =
    (unique index columns, its WHERE) drops rows that clash with it. Returns
    the ``returning`` columns of the rows inserted."""
    if not rows:
        return []
    named = [*rows[0], *returning, *(skip_conflicts[0] if skip_conflicts else ())]
    unknown = [name for name in named if name not in table.c]  # names go into the SQL text: ours only
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
    if db.session.get_bind().dialect.name == "postgresql":
        insert = _postgresql
        size = CHUNK
    else:
        insert = _executemany
        size = EXECUTEMANY_CHUNK
    found = []
    for start in range(0, len(rows), size):
        found += insert(table, rows[start:start + size], skip_conflicts, returning)
    return found


def _sql_type(column) -> str:
    """The type to cast to: strings as TEXT, so that the column's own length
    check refuses an over-long value (a CAST to VARCHAR(n) would cut it)."""
    if isinstance(column.type, String):
        return "TEXT"
    return column.type.compile(dialect=postgresql.dialect())


def _postgresql(table, rows, skip_conflicts, returning) -> list[tuple]:
    columns = list(rows[0])
    varying = [c for c in columns if any(row[c] != rows[0][c] for row in rows)]
    params, sources, binds = {}, [], []
    for name in columns:
        sql_type = _sql_type(table.c[name])
        if name in varying:
            params[name] = [row[name] for row in rows]
            binds.append(bindparam(name, type_=postgresql.ARRAY(table.c[name].type)))
            sources.append(f"u.{name}")
        else:
            params[name] = rows[0][name]
            sources.append(f"CAST(:{name} AS {sql_type})")
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(sources)}"
    if varying:  # (a single row has none: it is all constants)
        unnested = ", ".join(f"CAST(:{name} AS {_sql_type(table.c[name])}[])" for name in varying)
        sql += f" FROM unnest({unnested}) AS u({', '.join(varying)})"
    if skip_conflicts:
        elements, where = skip_conflicts
        sql += f" ON CONFLICT ({', '.join(elements)}) WHERE {where} DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    result = db.session.execute(text(sql).bindparams(*binds), params)
    return [tuple(row) for row in result] if returning else []


def _executemany(table, rows, skip_conflicts, returning) -> list[tuple]:
    statement = sqlite.insert(table) if skip_conflicts or returning else table.insert()
    if skip_conflicts:
        elements, where = skip_conflicts
        statement = statement.on_conflict_do_nothing(index_elements=elements, index_where=text(where))
    if not returning:
        db.session.execute(statement, rows)
        return []
    found = []
    for row in rows:  # SQLite: RETURNING one row at a time
        found += [tuple(r) for r in db.session.execute(statement.values(row).returning(
            *(table.c[name] for name in returning)))]
    return found
