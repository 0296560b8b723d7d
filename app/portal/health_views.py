"""The signed-in patient's own results and messages. Nothing here takes a
patient id: every page reads the patient from the portal session, so another
patient's data has no address to reach it by."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.audit import services as audit_trail
from app.core import audit
from app.core.access import public
from app.notifications import services as notifications
from app.portal import services, session
from app.portal.views import bp
from app.records import services as records
from tenants.db import db

_PATIENT_LABEL = audit.PORTAL_ACTOR


def _chart_locale() -> str:
    return "zh_CN" if str(get_locale()).startswith("zh") else "en"


@bp.route("/results")
@public
def results():
    account = session.current_account()
    if account is None:
        return session.to_sign_in()
    patient = services.patient_of(account)
    data, charts, group = None, {}, ""
    if patient is not None:
        shown = records.releases.shown_to_patient(patient.id)
        data = records.trends.build(patient, keep=shown)
        group = request.args.get("group", "")
        if group and group in data.groups:
            data = records.trends.build(patient, group, keep=shown)
        else:
            group = ""
        locale = _chart_locale()
        charts = records.trends.charts(data, patient, locale)
        audit.record("portal_results_viewed", patient_id=patient.id, actor_label=_PATIENT_LABEL, group=group)
    # rendered before the commit: a commit expires every loaded result, and reading each again is a query per result
    waiting = len(records.releases.waiting(patient.id)) if patient is not None else 0
    page = render_template("portal/results.html", patient=patient, trends=data, charts=charts, group=group,
                           waiting=waiting)
    if patient is not None:
        db.session.commit()
    return page


@bp.route("/record-access")
@public
def record_access():
    """Who at the clinic opened or changed my record, and when (from the audit trail)."""
    account = session.current_account()
    if account is None:
        return session.to_sign_in()
    patient = services.patient_of(account)
    rows = audit_trail.who_opened(patient.id) if patient is not None else []
    return render_template("portal/record_access.html", patient=patient, rows=rows)


@bp.route("/messages")
@public
def messages_list():
    account = session.current_account()
    if account is None:
        return session.to_sign_in()
    return render_template("portal/messages.html", rows=notifications.patient_inbox.inbox(account.patient_id),
                           patient=services.patient_of(account))


@bp.route("/messages/<id:notification_id>/read", methods=["POST"])
@public
def message_read(notification_id: int):
    account = session.current_account()
    if account is None:
        abort(403)
    if not notifications.patient_inbox.mark_read(account.patient_id, notification_id):
        abort(404)
    db.session.commit()
    return redirect(url_for("portal.messages_list") + f"#m-{notification_id}")


@bp.route("/messages/read-all", methods=["POST"])
@public
def messages_read_all():
    account = session.current_account()
    if account is None:
        abort(403)
    count = notifications.patient_inbox.mark_all_read(account.patient_id)
    db.session.commit()
    if count:
        flash(_("All messages are marked as read."))
    return redirect(url_for("portal.messages_list"))


def unread() -> int:
    """The signed-in patient's unread message count (0 when signed out)."""
    account = session.current_account()
    return notifications.patient_inbox.unread_count(account.patient_id) if account is not None else 0
