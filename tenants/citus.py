"""Distribution by clinic on Citus, read from the live schema (PostgreSQL's catalogs).

Every clinic table is distributed by ``tenant_id`` and co-located with the others, so a clinic's rows of
every table sit on one node and a join between clinic tables runs there. That holds only when each
primary key, unique constraint and unique index includes ``tenant_id`` and each foreign key between
clinic tables carries ``tenant_id`` to ``tenant_id``; ``problems`` names every key that does not.
The few tables without a clinic are reference tables (a copy on every node) or stay on the coordinator.
"""
from dataclasses import dataclass

from sqlalchemy import text

DISTRIBUTION_COLUMN = "tenant_id"
REFERENCE_TABLES = {
    "tenants": "the clinics themselves; every clinic table's tenant_id refers to it",
    "domains": "host names, looked up before the clinic is known (by host, never by clinic)",
}
COORDINATOR_TABLES = {
    "alembic_version": "the migration state, read and written only by `flask db upgrade`",
}


@dataclass(frozen=True)
class Key:
    table: str
    kind: str  # "primary key", "unique constraint", "unique index" or "foreign key"
    name: str
    columns: tuple[str, ...]
    referenced_table: str = ""
    referenced_columns: tuple[str, ...] = ()


_TABLES = text("""
    SELECT c.relname, a.attname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
""")

_CONSTRAINTS = text("""
    SELECT t.relname AS tbl, k.contype, k.conname,
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS cols,
           coalesce(r.relname, '') AS ref,
           ARRAY(SELECT a.attname FROM unnest(coalesce(k.confkey, '{}')) WITH ORDINALITY u(n, i)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS refcols
    FROM pg_constraint k
    JOIN pg_class t ON t.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    LEFT JOIN pg_class r ON r.oid = k.confrelid
    WHERE n.nspname = current_schema() AND k.contype IN ('p', 'u', 'f')
""")

# unique indexes that no constraint owns (CREATE UNIQUE INDEX, partial ones included)
_UNIQUE_INDEXES = text("""
    SELECT t.relname AS tbl, i.relname AS name,
           ARRAY(SELECT coalesce(a.attname, '(expression)') FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(n, j)
                 LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.n ORDER BY u.j) AS cols
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = current_schema() AND x.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
""")

_KINDS = {"p": "primary key", "u": "unique constraint", "f": "foreign key"}


def tables(connection) -> dict[str, set[str]]:
    """Each ordinary table of the schema with its columns."""
    found: dict[str, set[str]] = {}
    for table, column in connection.execute(_TABLES):
        found.setdefault(table, set()).update([column] if column else [])
    return found


def keys(connection) -> list[Key]:
    found = [Key(row.tbl, _KINDS[row.contype], row.conname, tuple(row.cols), row.ref, tuple(row.refcols))
             for row in connection.execute(_CONSTRAINTS)]
    found += [Key(row.tbl, "unique index", row.name, tuple(row.cols)) for row in connection.execute(_UNIQUE_INDEXES)]
    return sorted(found, key=lambda k: (k.table, k.kind, k.name))


def distributed_tables(schema: dict[str, set[str]]) -> list[str]:
    return sorted(t for t in schema if t not in REFERENCE_TABLES and t not in COORDINATOR_TABLES)


def problems(connection) -> list[str]:
    """Every table and key that stands in the way of distributing the clinic tables by tenant_id."""
    schema = tables(connection)
    clinic = set(distributed_tables(schema))
    found = [f"{t}: no {DISTRIBUTION_COLUMN} column, and not named a reference or coordinator table"
             for t in sorted(clinic) if DISTRIBUTION_COLUMN not in schema[t]]
    with_primary_key = {k.table for k in keys(connection) if k.kind == "primary key"}
    found += [f"{t}: no primary key" for t in sorted(clinic - with_primary_key)]
    for key in keys(connection):
        if key.table not in clinic:
            if key.kind == "foreign key" and key.referenced_table in clinic:
                found.append(f"{key.table}.{key.name}: a {key.table} row refers to the clinic table "
                             f"{key.referenced_table}")
            continue
        if key.kind != "foreign key":
            if DISTRIBUTION_COLUMN not in key.columns:
                found.append(f"{key.table}.{key.name}: {key.kind} ({', '.join(key.columns)}) "
                             f"lacks {DISTRIBUTION_COLUMN}")
        elif key.referenced_table in clinic and (DISTRIBUTION_COLUMN, DISTRIBUTION_COLUMN) not in zip(
                key.columns, key.referenced_columns):
            found.append(f"{key.table}.{key.name}: foreign key ({', '.join(key.columns)}) to "
                         f"{key.referenced_table} ({', '.join(key.referenced_columns)}) does not carry "
                         f"{DISTRIBUTION_COLUMN} to {DISTRIBUTION_COLUMN}")
    return found


def _in_reference_order(names: list[str], refers_to: dict[str, set[str]]) -> list[str]:
    """Tables after the tables they refer to (then by name); a cycle keeps name order."""
    ordered: list[str] = []
    pending = sorted(names)
    while pending:
        ready = [t for t in pending if not (refers_to.get(t, set()) & set(pending)) - {t}] or pending[:1]
        ordered.append(ready[0])
        pending.remove(ready[0])
    return ordered


def plan(connection) -> list[str]:
    """The Citus statements that distribute the current schema, in an order Citus accepts."""
    schema = tables(connection)
    refers_to: dict[str, set[str]] = {}
    for key in keys(connection):
        if key.kind == "foreign key":
            refers_to.setdefault(key.table, set()).add(key.referenced_table)
    reference = _in_reference_order([t for t in REFERENCE_TABLES if t in schema], refers_to)
    clinic = _in_reference_order(distributed_tables(schema), refers_to)
    statements = [f"SELECT create_reference_table('{t}');  -- {REFERENCE_TABLES[t]}" for t in reference]
    if clinic:
        anchor = clinic[0]
        statements.append(f"SELECT create_distributed_table('{anchor}', '{DISTRIBUTION_COLUMN}');")
        statements += [f"SELECT create_distributed_table('{t}', '{DISTRIBUTION_COLUMN}', colocate_with => '{anchor}');"
                       for t in clinic[1:]]
    statements += [f"-- {t} stays on the coordinator: {why}" for t, why in COORDINATOR_TABLES.items() if t in schema]
    return statements
