"""Request host -> Tenant. ``<slug>.<BASE_DOMAIN>`` or a Domain row; the bare
base domain is the platform (clinic directory); anything else is unknown."""
import re
from dataclasses import dataclass

from sqlalchemy import select

from tenants.db import db
from tenants.models import Domain, Tenant

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


@dataclass(frozen=True)
class Resolution:
    kind: str  # "tenant", "platform" or "unknown"
    tenant: Tenant | None = None


def _bare_host(host: str) -> str:
    host = (host or "").strip().lower().rstrip(".")
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def resolve(host: str, base_domain: str) -> Resolution:
    host = _bare_host(host)
    base = base_domain.lower().strip(".")
    if host == base:
        return Resolution("platform")
    tenant = None
    suffix = "." + base
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        if SLUG_RE.match(slug):
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    else:
        domain = db.session.get(Domain, host)
        tenant = domain.tenant if domain else None
    if tenant is None or not tenant.active:
        return Resolution("unknown")
    return Resolution("tenant", tenant)
