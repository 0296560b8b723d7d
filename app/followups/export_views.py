"""Follow-up tasks as a spreadsheet (one's own, or every overdue task for
those who manage follow-ups) and a patient's follow-up history as a print
layout; both audited."""
from flask import abort, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.core import audit, clock, exports, identity
from app.core.access import requires
from app.core.errors import found_or_404
from app.followups import labels, plans, services
from app.followups.views import bp
from app.patients import services as patients
from tenants.db import db

SCOPES = ("mine", "overdue")


@bp.route("/followups/export")
@requires("followups.work")
def export():
    fmt = exports.choose_format(request.args.get("format"))
    scope = request.args.get("scope", "mine")
    if fmt is None or scope not in SCOPES:
        abort(400)
    if scope == "overdue":
        if not current_user.can("followups.manage"):
            abort(403)
        tasks = services.overdue_tasks(limit=100_000)
    else:
        bench = services.my_tasks(current_user.id)
        tasks = bench.overdue + bench.today + bench.upcoming
    people = patients.get_many(t.patient_id for t in tasks)
    plan_names = {p.id: p.name for p in plans.list_plans()}
    names = {u.id: u.name for u in staff.list_staff()}
    full_mobile = current_user.can("patients.view_mobile")
    audit.record("list_exported", list="followups", format=fmt, rows=len(tasks), filters={"scope": scope},
                 masked=[] if full_mobile else ["mobile"])

    def rows():
        for t in tasks:
            p = people.get(t.patient_id)
            mobile = patients.identifiers(p)[0] if p else ""
            yield (t.due_date, p.name if p else "", p.card_no if p else "",
                   mobile if full_mobile else identity.mask_mobile(mobile), plan_names.get(t.plan_id or 0, ""),
                   str(labels.CHANNEL.get(t.channel, t.channel)), str(labels.STATUS.get(t.status, t.status)),
                   t.failed_attempts, names.get(t.assignee_id or 0, ""), _("yes") if t.escalated_at else "")

    table = exports.Table(_("Follow-up tasks"), [_("Due"), _("Name"), _("Card number"), _("Mobile"), _("Plan"),
                                                 _("Channel"), _("Status"), _("Failed attempts"), _("Assigned to"),
                                                 _("Escalated")], list(rows()))
    db.session.commit()  # the rows are read first: committing expires what they were read from
    return exports.response(fmt, table, f"followups-{scope}")


@bp.route("/patients/<id:patient_id>/followups/print")
@requires("followups.work")
def history_print(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    tasks = services.tasks_of_patient(patient_id)
    history = [(t, services.records_of(t.id)) for t in tasks]
    audit.record("list_printed", patient_id=patient.id, list="followup_history", rows=len(tasks))
    db.session.commit()
    return render_template("followups/history_print.html", patient=patient, history=history,
                           plan_names={p.id: p.name for p in plans.list_plans()},
                           staff={u.id: u.name for u in staff.list_staff()},
                           masked_mobile=patients.masked_mobile(patient),
                           printed_at=format_datetime(clock.now(), "short"))
