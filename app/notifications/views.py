from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, requires
from app.core.errors import found_or_404
from app.core.htmx import render
from app.extensions import csrf
from app.notifications import policy, services, templates
from app.notifications.forms import SettingsForm, TemplateForm
from app.notifications.models import CHANNELS, STATUSES, NotificationSettings
from app.notifications.unsubscribe import read_token
from app.patients import services as patients
from tenants.db import db

bp = Blueprint("notifications", __name__)


def _arg_id(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdecimal() and len(value) <= 18 else None


@bp.route("/notifications")
@requires("notifications.view")
def outbox():
    status = request.args.get("status", "") if request.args.get("status") in STATUSES else ""
    channel = request.args.get("channel", "") if request.args.get("channel") in CHANNELS else ""
    patient_id = _arg_id("patient")
    rows = services.outbox(status=status, channel=channel, patient_id=patient_id)
    return render("notifications/outbox.html", "notifications/_outbox_rows.html", rows=rows, status=status,
                  channel=channel, patient=patients.get(patient_id) if patient_id else None,
                  statuses=STATUSES, channels=CHANNELS)


@bp.route("/notifications/<id:notification_id>/resend", methods=["POST"])
@requires("notifications.manage")
def resend(notification_id: int):
    row = found_or_404(services.get(notification_id))
    if services.resend(row):
        db.session.commit()
    return render_template("notifications/_outbox_row.html", row=row)


@bp.route("/notifications/<id:notification_id>/cancel", methods=["POST"])
@requires("notifications.manage")
def cancel(notification_id: int):
    row = found_or_404(services.get(notification_id))
    if services.cancel(row):
        db.session.commit()
    return render_template("notifications/_outbox_row.html", row=row)


@bp.route("/notifications/templates")
@requires("notifications.templates")
def template_list():
    entries = []
    for definition in templates.definitions().values():
        for channel in definition.channels:
            for locale in templates.LOCALES:
                entries.append((definition, channel, locale, templates.wording(definition.key, channel, locale)))
    return render_template("notifications/templates.html", entries=entries)


def _definition_or_404(key: str, channel: str, locale: str):
    try:
        definition = templates.definition(key)
    except KeyError:
        abort(404)
    if channel not in definition.channels or locale not in templates.LOCALES:
        abort(404)
    return definition


@bp.route("/notifications/templates/<key>/<channel>/<locale>", methods=["GET", "POST"])
@requires("notifications.templates")
def template_edit(key: str, channel: str, locale: str):
    definition = _definition_or_404(key, channel, locale)
    current = templates.wording(key, channel, locale)
    if current is None:  # _definition_or_404 checked the channel
        abort(404)
    form = TemplateForm(data={"subject": current.subject, "body_text": current.text})
    if form.validate_on_submit():
        try:
            templates.save(key, channel, locale, form.subject.data or "", form.body_text.data or "",
                           actor_id=current_user.id)
        except templates.TemplateError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Template saved."))
            return redirect(url_for("notifications.template_list"))
    return render_template("notifications/template_edit.html", form=form, definition=definition,
                           channel=channel, locale=locale, custom=current.custom), (400 if form.errors else 200)


@bp.route("/notifications/templates/<key>/<channel>/<locale>/preview", methods=["POST"])
@requires("notifications.templates")
def template_preview(key: str, channel: str, locale: str):
    _definition_or_404(key, channel, locale)
    form = TemplateForm()
    try:
        rendered = templates.preview(key, channel, form.subject.data or "", form.body_text.data or "")
    except templates.TemplateError as exc:
        return render_template("notifications/_preview.html", error=exc.message, rendered=None), 200
    return render_template("notifications/_preview.html", error=None, rendered=rendered)


@bp.route("/notifications/templates/<key>/<channel>/<locale>/reset", methods=["POST"])
@requires("notifications.templates")
def template_reset(key: str, channel: str, locale: str):
    _definition_or_404(key, channel, locale)
    templates.reset(key, channel, locale)
    db.session.commit()
    flash(_("The default wording is back."))
    return redirect(url_for("notifications.template_list"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@requires("notifications.templates")
def settings():
    rules = policy.settings()
    form = SettingsForm(obj=rules)
    if form.validate_on_submit():
        if rules.tenant_id is None:
            rules = NotificationSettings()
            db.session.add(rules)
        form.populate_obj(rules)
        db.session.commit()
        flash(_("Sending rules saved."))
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form), (400 if form.errors else 200)


@bp.route("/notifications/preferences/<id:patient_id>", methods=["GET", "POST"])
@requires("patients.view")
def preferences(patient_id: int):
    patient = patients.get(patient_id)
    if patient is None:
        abort(404)
    saved = False
    if request.method == "POST":
        if not current_user.can("patients.edit"):
            abort(403)
        for channel in ("sms", "email"):
            for category in ("care", "marketing"):
                policy.set_preference(patient.id, channel, category,
                                      request.form.get(f"{channel}-{category}") == "on", source="staff")
        db.session.commit()
        saved = True
    return render_template("notifications/_preferences.html", patient=patient,
                           choices=policy.preferences(patient.id), saved=saved)


@bp.route("/inbox")
@requires("dashboard.view")
def inbox():
    return render_template("notifications/inbox.html", rows=services.inbox(current_user.id))


@bp.route("/inbox/<id:notification_id>/read", methods=["POST"])
@requires("dashboard.view")
def mark_read(notification_id: int):
    if not services.mark_read(current_user.id, notification_id):
        abort(404)
    db.session.commit()
    return redirect(url_for("notifications.inbox"))


@bp.route("/dev/outbox")
@requires("notifications.view")
def dev_outbox():
    """Development only: what the console backends 'sent', bodies included."""
    if current_app.config["CARELOOP_ENV"] == "production":
        abort(404)
    rows = [r for r in services.outbox(status="sent", limit=200) if r.provider_id.startswith("console:")]
    return render_template("notifications/dev_outbox.html", rows=rows)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # one-click unsubscribe (RFC 8058) posts from the mail client
def unsubscribe(token: str):
    data = read_token(token, g.tenant.id)
    if data is None:
        abort(404)
    patient = patients.get(data["p"])
    if patient is None:
        abort(404)
    done = False
    if request.method == "POST":
        policy.set_preference(patient.id, data["c"], data["k"], False, source="unsubscribe")
        db.session.commit()
        done = True
    return render_template("notifications/unsubscribe.html", channel=data["c"], category=data["k"], done=done)


def inbox_unread() -> int:
    if not current_user or not current_user.is_authenticated:
        return 0
    return services.unread_count(current_user.id)
