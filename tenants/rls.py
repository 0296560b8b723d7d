"""PostgreSQL row-level security: the backstop under the ORM guard.

Each tenant table gets ENABLE + FORCE ROW LEVEL SECURITY and one policy that
compares ``tenant_id`` with the transaction-local setting ``app.tenant_id``.
The setting is written with ``SET LOCAL`` at the start of every transaction
(never a plain SET, which would outlive the transaction and leak through the
connection pool, or PgBouncer's). A SET LOCAL, unlike ``set_config()``, is
also what Citus passes on to the nodes that hold the shards (with
``citus.propagate_set_commands = 'local'``), where the policies run. With no
tenant set, the policy sees NULL and no row matches.
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

from tenants.context import current_tenant_id
from tenants.db import db

SETTING = "app.tenant_id"
POLICY = "tenant_isolation"



def _set_statement() -> str:
    """SET takes no bound parameter: the value is an integer the app made, or empty."""
    tenant_id = current_tenant_id()
    return f"SET LOCAL {SETTING} = '{'' if tenant_id is None else int(tenant_id)}'"


def _on_begin(session, transaction, connection) -> None:
    if transaction.nested:  # a savepoint runs inside the transaction that already has the setting
        return
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_set_statement())


def apply_to_open_transaction() -> None:
    """Re-tell an already open transaction which tenant is current."""
    try:
        session = db.session()
    except RuntimeError:  # no application context
        return
    if not session.in_transaction():
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_set_statement())


def install_rls_hook(session_class=Session) -> None:
    if not event.contains(session_class, "after_begin", _on_begin):
        event.listen(session_class, "after_begin", _on_begin)


def enable_sql(table: str) -> list[str]:
    """Statements a migration runs (as the owner) for a new tenant table."""
    expr = f"tenant_id = NULLIF(current_setting('{SETTING}', true), '')::bigint"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {table}",
        f"CREATE POLICY {POLICY} ON {table} USING ({expr}) WITH CHECK ({expr})",
    ]


def enable(op, table: str) -> None:
    """Alembic helper: ``rls.enable(op, "patients")`` inside upgrade()."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in enable_sql(table):
        op.execute(statement)


def grant_app_role(op, table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    """Give the application role (APP_DB_ROLE, default careloop_app) its rights
    on one table, if that role exists. The app role owns nothing. The
    platform tables (``tenants``, ``domains``) get SELECT only: clinics are
    created and suspended as the owner (tenants.services, the CLI)."""
    _app_role_statement(op, f"GRANT {privileges} ON {table} TO {{role}}")


def revoke_app_role(op, table: str, privileges: str) -> None:
    """Take rights on one table away from the application role, if it exists."""
    _app_role_statement(op, f"REVOKE {privileges} ON {table} FROM {{role}}")


def _app_role_statement(op, statement: str) -> None:
    import os

    if op.get_bind().dialect.name != "postgresql":
        return
    role = os.environ.get("APP_DB_ROLE", "careloop_app")
    op.execute(
        f"""DO $$ BEGIN
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                {statement.format(role=role)};
              END IF;
            END $$"""
    )
