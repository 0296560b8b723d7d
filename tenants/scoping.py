"""The TenantScoped mixin and the fail-closed session guard.

Every query of a tenant model gets ``tenant_id = <current>`` added by one ORM
hook; with no tenant set it raises. Platform code that must see every tenant
passes ``execution_options(all_tenants=True)``, and nothing else bypasses it.
Inserts get ``tenant_id`` filled in, and an insert for another tenant raises.
"""
from functools import cache

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Table, event
from sqlalchemy.orm import Mapped, Session, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors

from tenants.context import NoTenantError, current_tenant_id
from tenants.ids import new_id

BYPASS_OPTION = "all_tenants"


class TenantOwned:
    """Mixin for every tenant table: ``tenant_id`` leads the primary key."""

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), primary_key=True, sort_order=-20)


def tenant_fk(column: str, table: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """``(tenant_id, column)`` -> ``table(tenant_id, id)``: a row may point
    only at a row of its own clinic, and the database refuses any other."""
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class TenantScoped(TenantOwned):
    """Mixin: composite primary key (tenant_id, id), id generated in Python."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id, sort_order=-10)


@cache
def _tenant_tables() -> frozenset:
    """Every tenant table (models are all imported before the first query)."""
    from tenants.db import Model

    return frozenset(m.local_table for m in Model.registry.mappers if issubclass(m.class_, TenantOwned))


def _touches_tenant_model(state) -> bool:
    if any(issubclass(m.class_, TenantOwned) for m in state.all_mappers):
        return True
    # select(func.count()).select_from(Model) names no entity among its columns
    tables = _tenant_tables()
    return any(isinstance(node, Table) and node in tables for node in visitors.iterate(state.statement))


def _guard_execute(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(BYPASS_OPTION):
        return
    if state.is_column_load or state.is_relationship_load:
        # lazy loads follow from an object that was itself loaded under the guard
        tenant_id = current_tenant_id()
        if tenant_id is None:
            return
    else:
        if not _touches_tenant_model(state):
            return
        tenant_id = current_tenant_id()
        if tenant_id is None:
            raise NoTenantError("query of a tenant table with no tenant set")
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


def _guard_flush(session, flush_context, instances) -> None:
    tenant_id = current_tenant_id()
    for obj in session.new:
        if not isinstance(obj, TenantOwned):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise NoTenantError(f"insert of {type(obj).__name__} with no tenant set")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise NoTenantError(f"insert of {type(obj).__name__} for another tenant")
        if isinstance(obj, TenantScoped) and obj.id is None:
            obj.id = new_id()
    for obj in session.dirty:
        if isinstance(obj, TenantOwned) and tenant_id is not None and obj.tenant_id != tenant_id:
            raise NoTenantError(f"change to {type(obj).__name__} of another tenant")


def install_guard(session_class=Session) -> None:
    if not event.contains(session_class, "do_orm_execute", _guard_execute):
        event.listen(session_class, "do_orm_execute", _guard_execute)
        event.listen(session_class, "before_flush", _guard_flush)
