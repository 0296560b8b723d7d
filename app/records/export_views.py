"""The alert list as a spreadsheet, with the list's filters; audited."""
from dataclasses import replace

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.core import audit, clock, exports
from app.core.access import requires
from app.patients import services as patients
from app.records import alerts, labels
from app.records.views import bp
from tenants.db import db

EXPORT_LIMIT = 100_000


@bp.route("/alerts/export")
@requires("alerts.view")
def alerts_export():
    fmt = exports.choose_format(request.args.get("format"))
    if fmt is None:
        abort(400)
    filters = replace(alerts.parse_filters(request.args), page=1)
    rows, total = alerts.page_of(alerts.viewer(current_user), filters, per_page=EXPORT_LIMIT)
    people = patients.get_many(a.patient_id for a in rows)
    names = {u.id: u.name for u in staff.list_staff()}
    audit.record("list_exported", list="alerts", format=fmt, rows=len(rows),
                 filters={"tier": filters.tier, "status": filters.status or "all", "doctor": filters.doctor,
                          "since": filters.since.isoformat() if filters.since else "",
                          "until": filters.until.isoformat() if filters.until else ""})

    def lines():
        for a in rows:
            p = people.get(a.patient_id)
            yield (clock.local(a.created_at).replace(tzinfo=None), str(labels.ALERT_KIND.get(a.kind, a.kind)),
                   str(labels.ALERT_STATUS.get(a.status, a.status)), p.name if p else "", p.card_no if p else "",
                   labels.alert_summary(a.summary), a.item_count, names.get(a.doctor_id or 0, ""),
                   clock.local(a.acknowledged_at).replace(tzinfo=None) if a.acknowledged_at else None,
                   names.get(a.acknowledged_by or 0, ""), a.note)

    table = exports.Table(_("Result alerts"), [_("Raised"), _("Tier"), _("Status"), _("Name"), _("Card number"),
                                               _("Summary"), _("Results"), _("Responsible doctor"),
                                               _("Acknowledged"), _("Acknowledged by"), _("Note")], list(lines()))
    db.session.commit()  # the rows are read first: committing expires what they were read from
    return exports.response(fmt, table, "alerts")
