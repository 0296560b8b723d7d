from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import force_locale, get_locale

from app.audit import services
from app.auth import services as staff_services
from app.core import audit, clock
from app.core.access import requires
from app.patients import services as patients
from tenants.context import require_tenant_id, tenant_context
from tenants.db import db

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("")
@requires("audit.view")
def index():
    filters = services.parse_filters(request.args)
    page = services.search(filters, cursor=request.args.get("after", "")[:80]) if not filters.errors else \
        services.Page([], "")
    patient = patients.get(filters.patient_id) if filters.patient_id else None
    kept: dict[str, Any] = {k: v for k, v in request.args.items()
                            if k in ("staff", "patient", "action", "since", "until") and v}
    next_url = url_for("audit.index", **kept, after=page.next_cursor) if page.next_cursor else ""
    return render_template("audit/index.html", rows=services.describe(page.events), next_url=next_url,
                           export_url=url_for("audit.export", **kept),
                           filters=filters, patient=patient, staff=staff_services.list_staff(),
                           actions=audit.ACTIONS, zone=clock.zone_name()), (400 if filters.errors else 200)


@bp.route("/export.csv")
@requires("audit.view")
def export():
    filters = services.parse_filters(request.args)
    if filters.errors:
        return index()
    audit.record("audit_exported", filters={k: v for k, v in request.args.items() if k != "after"})
    db.session.commit()
    tenant_id, app, locale = require_tenant_id(), current_app._get_current_object(), str(get_locale())  # type: ignore[attr-defined]

    def rows():  # streamed after the request has ended: its own app context, the clinic and language set again
        with app.app_context(), tenant_context(tenant_id), force_locale(locale):
            yield from services.export_csv(filters)

    response = Response(rows(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{clock.today().isoformat()}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
