"""Creating, suspending and listing tenants (platform operations).

The application's database role may only read ``tenants`` and ``domains``:
the writes here go through the owner role (``tenants.db.as_owner``), and
people reach them through the command line (``flask tenants ...``)."""
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, text

from tenants.context import tenant_context
from tenants.db import as_owner, db
from tenants.models import Domain, Tenant
from tenants.resolver import SLUG_RE

log = logging.getLogger(__name__)

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
    """Create a tenant and run the setup steps in one transaction, as the
    database owner; returns the tenant as the caller's session reads it."""
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise TenantError("slug must be 1-40 lower-case letters, digits or hyphens")
    if not name.strip():
        raise TenantError("name is required")
    with as_owner() as owner:
        if owner.scalar(select(Tenant.id).where(Tenant.slug == slug)):
            raise TenantError(f"a tenant with slug {slug!r} exists already")
        tenant = Tenant(slug=slug, name=name.strip(), card_prefix=_card_prefix(slug))
        owner.add(tenant)
        for host in domains:
            owner.add(Domain(host=host.lower(), tenant=tenant))
        owner.flush()
        with tenant_context(tenant.id):
            for step in _setup_steps:
                step(tenant, **setup)
            owner.commit()
        tenant_id = tenant.id
    return db.session.get_one(Tenant, tenant_id)


def set_active(slug: str, active: bool) -> Tenant:
    """Suspend a clinic (its addresses answer 404, its daily work stops) or
    resume it, as the database owner."""
    with as_owner() as owner:
        tenant = owner.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise TenantError(f"no clinic with slug {slug!r}")
        tenant.active = active
        owner.commit()
        tenant_id = tenant.id
    tenant = db.session.get_one(Tenant, tenant_id)
    db.session.refresh(tenant)
    return tenant


def _card_prefix(slug: str) -> str:
    letters = "".join(ch for ch in slug.upper() if ch.isalpha())
    return (letters[:2] or "CL").ljust(2, "X")


def list_tenants() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))


@dataclass
class EveryClinic:
    """What a daily job did in each clinic, and where it failed."""

    done: dict[str, object] = field(default_factory=dict)   # slug -> what the work returned
    failed: dict[str, str] = field(default_factory=dict)    # slug -> the error


def lock_clinic_work(name: str, tenant_id: int) -> None:
    """Hold the lock of one command's work in one clinic until the transaction ends. The same command
    started twice at once (two cron hosts, two workers) then works in each clinic one after the other,
    and the second finds the work done (every daily command is idempotent per clinic day). A transaction
    lock, not a session lock: it holds behind PgBouncer's transaction pooling too."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                           {"key": f"{name}:{tenant_id}"})


def for_each_active_tenant(work: Callable[[], object], *, lock: str) -> EveryClinic:
    """Run ``work`` in each active clinic's context, one transaction per
    clinic under the clinic's lock named ``lock`` (the command): a clinic
    whose work fails is rolled back, logged and reported, and the clinics
    after it still get theirs."""
    tenants = [(t.id, t.slug) for t in list_tenants() if t.active]
    db.session.rollback()
    run = EveryClinic()
    for tenant_id, slug in tenants:
        with tenant_context(tenant_id):
            try:
                lock_clinic_work(lock, tenant_id)
                run.done[slug] = work()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 -- the next clinic must still run
                db.session.rollback()
                log.exception("daily work failed in clinic %s", slug)
                run.failed[slug] = f"{type(exc).__name__}: {exc}"
    return run


def tenant_by_slug(slug: str) -> Tenant | None:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))
