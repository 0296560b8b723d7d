"""Per-request tenancy: the host names the tenant before any view runs."""
from flask import abort, current_app, g, redirect, request, url_for

from tenants.context import reset_tenant, set_tenant_id
from tenants.resolver import resolve
from tenants.rls import apply_to_open_transaction

# Endpoints served on the bare platform host (the clinic directory).
PLATFORM_ENDPOINTS = {"platform.directory", "core.set_language", "core.healthz", "static"}


def _resolve_tenant():
    g.tenant = None
    resolution = resolve(request.host, current_app.config["BASE_DOMAIN"])
    g.site_kind = resolution.kind
    if resolution.kind == "unknown":
        abort(404)
    if resolution.kind == "platform":
        if request.path == "/":
            return redirect(url_for("platform.directory"))
        if request.endpoint not in PLATFORM_ENDPOINTS:
            abort(404)
        return
    if request.endpoint == "platform.directory":
        abort(404)
    tenant = resolution.tenant
    if tenant is None:  # a "tenant" resolution always carries its tenant
        raise RuntimeError(f"host resolved as {resolution.kind!r} without a tenant")
    g.tenant = tenant
    g._tenant_token = set_tenant_id(tenant.id)
    apply_to_open_transaction()  # the host lookup already opened a transaction


def _forget_tenant(_exc=None):
    token = g.pop("_tenant_token", None)
    if token is not None:
        reset_tenant(token)


def register(app) -> None:
    app.before_request(_resolve_tenant)
    app.teardown_request(_forget_tenant)
    app.jinja_env.globals["current_tenant"] = lambda: g.get("tenant")
