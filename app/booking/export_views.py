"""The day's schedule as a spreadsheet and as a print layout; both audited."""
from datetime import date

from flask import abort, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from app.booking import labels, services
from app.booking.views import bp
from app.core import audit, clock, exports, identity
from app.core.access import requires
from app.patients import services as patients
from tenants.db import db


def _day() -> date:
    try:
        return date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return services.availability.window(services.settings())[0]


def _lines(day: date):
    """(slot, order, patient) of the day's bookings in slot order."""
    rows = services.schedule(day)
    people = patients.get_many(o.patient_id for row in rows for o in row.orders)
    return rows, [(row, o, people[o.patient_id]) for row in rows for o in row.orders]


@bp.route("/schedule/export")
@requires("booking.schedule")
def schedule_export():
    fmt = exports.choose_format(request.args.get("format"))
    if fmt is None:
        abort(400)
    day = _day()
    _rows, lines = _lines(day)
    full_mobile = current_user.can("patients.view_mobile")
    audit.record("list_exported", list="schedule", format=fmt, rows=len(lines), filters={"day": day.isoformat()},
                 masked=[] if full_mobile else ["mobile"])

    def rows():
        for row, o, p in lines:
            mobile = patients.identifiers(p)[0]
            yield (f"{row.start:%H:%M}–{row.end:%H:%M}", p.card_no, p.name,
                   mobile if full_mobile else identity.mask_mobile(mobile), o.package_name, o.order_no,
                   str(labels.STATUS.get(o.status, o.status)), _("yes") if o.paid_at else _("no"))

    table = exports.Table(_("Schedule %(day)s", day=day.isoformat()),
                          [_("Time"), _("Card number"), _("Name"), _("Mobile"), _("Package"), _("Order"),
                           _("Status"), _("Paid")], list(rows()))
    db.session.commit()  # the rows are read first: committing expires what they were read from
    return exports.response(fmt, table, f"schedule-{day.isoformat()}")


@bp.route("/schedule/print")
@requires("booking.schedule")
def schedule_print():
    day = _day()
    rows, lines = _lines(day)
    audit.record("list_printed", list="schedule", rows=len(lines), filters={"day": day.isoformat()})
    db.session.commit()
    masked = {p.id: patients.masked_mobile(p) for _row, _o, p in lines}
    groups = [(row, [(o, p) for slot, o, p in lines if slot is row]) for row in rows]
    return render_template("booking/schedule_print.html", day=day, groups=groups, masked=masked,
                           printed_at=format_datetime(clock.now(), "short"))
