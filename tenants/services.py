"""Creating and listing tenants (platform operations)."""
from collections.abc import Callable

from sqlalchemy import select

from tenants.context import tenant_context
from tenants.db import db
from tenants.models import Domain, Tenant
from tenants.resolver import SLUG_RE

# Called inside the new tenant's context after it is created, e.g. to add its
# first staff account and default data. The product registers these.
_setup_steps: list[Callable[..., None]] = []


class TenantError(ValueError):
    pass


def on_tenant_created(step: Callable[..., None]) -> Callable[..., None]:
    if step not in _setup_steps:
        _setup_steps.append(step)
    return step


def create_tenant(slug: str, name: str, *, domains: tuple[str, ...] = (), **setup) -> Tenant:
    """Create a tenant and run the setup steps in one transaction."""
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise TenantError("slug must be 1-40 lower-case letters, digits or hyphens")
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise TenantError(f"a tenant with slug {slug!r} exists already")
    if not name.strip():
        raise TenantError("name is required")
    tenant = Tenant(slug=slug, name=name.strip(), card_prefix=_card_prefix(slug))
    db.session.add(tenant)
    for host in domains:
        db.session.add(Domain(host=host.lower(), tenant=tenant))
    db.session.flush()
    try:
        with tenant_context(tenant.id):
            for step in _setup_steps:
                step(tenant, **setup)
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return tenant


def _card_prefix(slug: str) -> str:
    letters = "".join(ch for ch in slug.upper() if ch.isalpha())
    return (letters[:2] or "CL").ljust(2, "X")


def list_tenants() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))


def for_each_active_tenant(work: Callable[[], object]) -> dict[str, object]:
    """Run ``work`` in each active clinic's context and commit after each
    (a daily job: one clinic's failure leaves the others' work in place).
    Returns {slug: what work returned}."""
    tenants = [(t.id, t.slug) for t in list_tenants() if t.active]
    db.session.rollback()
    results = {}
    for tenant_id, slug in tenants:
        with tenant_context(tenant_id):
            results[slug] = work()
            db.session.commit()
    return results


def tenant_by_slug(slug: str) -> Tenant | None:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))
