"""The current tenant: set per request by the resolver, per job or command by
``tenant_context()``. A ContextVar, so threads and requests never share it."""
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[int | None] = ContextVar("careloop_tenant_id", default=None)


class NoTenantError(RuntimeError):
    """A tenant-scoped query or insert ran with no tenant set."""


def current_tenant_id() -> int | None:
    return _current.get()


def require_tenant_id() -> int:
    tenant_id = _current.get()
    if tenant_id is None:
        raise NoTenantError("no tenant is set for this query")
    return tenant_id


def set_tenant_id(tenant_id: int | None):
    """Set the tenant and return a token for ``reset_tenant``."""
    return _current.set(tenant_id)


def reset_tenant(token) -> None:
    _current.reset(token)


@contextmanager
def tenant_context(tenant_id: int):
    """Run a block (a job, a CLI command, a test) as one tenant.

    The database session's transaction is told the new tenant straight away,
    so row-level security follows on PostgreSQL.
    """
    from tenants.rls import apply_to_open_transaction

    token = _current.set(int(tenant_id))
    apply_to_open_transaction()
    try:
        yield int(tenant_id)
    finally:
        _current.reset(token)
        apply_to_open_transaction()
