
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.auth import services as staff
from app.core import audit, clock, identity, jobs, storage
from app.core.access import requires
from app.core.errors import found_or_404
from app.core.validators import required
from app.patients import services as patients
from app.records import alerts, catalogue, importer, labels, releases, services, trends
from app.records.forms import AckForm, AlertSettingsForm, AssignForm, BulkAckForm, EntryForm, UploadForm
from app.records.models import TableMapping
from tenants.context import require_tenant_id
from tenants.db import db

bp = Blueprint("records", __name__)
INLINE_LIMIT = 256 * 1024  # larger uploads import in a background job


def _mapping_choices():
    rows = db.session.scalars(select(TableMapping).order_by(TableMapping.name))
    return [("", _("Guess from the column titles"))] + [(str(r.id), r.name) for r in rows]


def _mapping(choice: str) -> dict | None:
    if not (choice.isdecimal() and len(choice) <= 18):
        return None
    row = db.session.scalar(select(TableMapping).where(TableMapping.id == int(choice)))
    return row.mapping if row else None


@bp.route("/patients/<id:patient_id>/records")
@requires("patients.view")
def patient_records(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    audit.record_opened(patient.id)
    db.session.commit()
    return _page(patient, EntryForm(formdata=None, observed_on=clock.today()))


def _page(patient, entry_form: EntryForm, typed: dict | None = None, problems: dict | None = None,
          status: int = 200, upload: UploadForm | None = None):
    group = request.args.get("group", "")
    data = trends.build(patient, group)
    locale = "zh_CN" if str(get_locale()).startswith("zh") else "en"
    charts = trends.charts(data, patient, locale)
    upload = upload or UploadForm(formdata=None)
    upload.mapping.choices = _mapping_choices()
    return render_template("records/patient.html", patient=patient, trends=data, group=group, charts=charts,
                           upload_form=upload, entry_form=entry_form, indicators=catalogue.all_indicators(),
                           typed=typed or {}, problems=problems or {}, waiting=releases.waiting(patient.id)), status


@bp.route("/patients/<id:patient_id>/observations", methods=["POST"])
@requires("records.enter")
def enter(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    form = EntryForm()
    indicators = catalogue.all_indicators()
    typed = {i.id: ((request.form.get(f"v-{i.id}") or "").strip(), request.form.get(f"u-{i.id}") or i.unit)
             for i in indicators}
    if not form.validate_on_submit():
        return _page(patient, form, typed, status=400)
    if not any(text for text, _unit in typed.values()):
        form.observed_on.errors = [_("Enter at least one value.")]
        return _page(patient, form, typed, status=400)
    at = services.entry_moment(required(form.observed_on))
    problems, fresh = {}, []
    with db.session.begin_nested():
        for indicator in indicators:
            text, unit = typed[indicator.id]
            if not text:
                continue
            try:
                stored = services.store(patient, services.Value(indicator, text, unit, at), actor_id=current_user.id)
            except catalogue.CatalogueError as exc:
                problems[indicator.id] = str(exc)
                continue
            if stored.observation:
                fresh.append(stored.observation)
        if not problems:
            fresh.extend(services.derive(patient, at))
            alerts.raise_for(patient, fresh)
    if problems:
        db.session.rollback()
        return _page(patient, form, typed, problems, status=400)
    audit.record("results_entered", patient_id=patient.id, count=len(fresh))
    db.session.commit()
    flash(_("%(n)d values saved.", n=len(fresh)))
    return redirect(url_for("records.patient_records", patient_id=patient.id))


@bp.route("/patients/<id:patient_id>/import", methods=["POST"])
@requires("records.import")
def upload_for_patient(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    form = UploadForm()
    form.mapping.choices = _mapping_choices()
    if not form.validate_on_submit():
        return _page(patient, EntryForm(formdata=None, observed_on=clock.today()), status=400, upload=form)
    upload = form.file.data
    summary = importer.import_file(upload.read(importer.MAX_BYTES + 1), upload.filename or "",
                                   mapping=_mapping(form.mapping.data or ""), patient=patient,
                                   actor_id=current_user.id)
    _audit_import(summary, upload.filename, patient.id)
    db.session.commit()
    return render_template("records/import_result.html", summary=summary, message=labels.import_summary(summary),
                           patient=patient), (200 if not summary.errors else 422)


@bp.route("/records/import", methods=["GET", "POST"])
@requires("records.import")
def bulk_import():
    form = UploadForm()
    form.mapping.choices = _mapping_choices()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importer.MAX_BYTES + 1)
        mapping = _mapping(form.mapping.data or "")
        if importer.needs_job(data, INLINE_LIMIT):
            run = jobs.start("report_import", "app.records.jobs.import_upload", requested_by=current_user.id,
                             key=_stash(data), filename=upload.filename or "", mapping=mapping,
                             locale=str(get_locale()))
            return render_template("records/import.html", form=form, run=run)
        summary = importer.import_file(data, upload.filename or "", mapping=mapping, actor_id=current_user.id)
        _audit_import(summary, upload.filename)
        db.session.commit()
        return render_template("records/import.html", form=form, summary=summary,
                               message=labels.import_summary(summary)), (200 if not summary.errors else 422)
    return render_template("records/import.html", form=form), (400 if form.errors else 200)


def _audit_import(summary: importer.ImportSummary, filename: str | None, patient_id: int | None = None) -> None:
    audit.record("reports_imported", patient_id=patient_id, file=(filename or "")[:100], reports=summary.imported,
                 results=summary.results, unmatched=summary.unmatched, errors=len(summary.errors))


def _stash(data: bytes) -> str:
    key = storage.new_key(require_tenant_id(), "imports", ".upload")
    storage.backend().save(key, data)
    return key


@bp.route("/records/unmatched")
@requires("records.import")
def unmatched():
    return render_template("records/unmatched.html", reports=importer.unmatched(), form=AssignForm())


@bp.route("/records/unmatched/<id:report_id>/assign", methods=["POST"])
@requires("records.import")
def assign(report_id: int):
    report = importer.get_report(report_id)
    if report is None or report.status != "unmatched":
        abort(404)
    form = AssignForm()
    patient = patients.search(form.card_no.data or "").patients if form.validate_on_submit() else []
    exact = [p for p in patient if p.card_no == (form.card_no.data or "").strip().upper()]
    if not exact:
        flash(_("No patient has card number %(card)s.", card=form.card_no.data or ""))
        return redirect(url_for("records.unmatched"))
    summary = importer.assign(report, exact[0], current_user.id)
    db.session.commit()
    flash(labels.import_summary(summary) + (" " + "; ".join(summary.errors) if summary.errors else ""))
    return redirect(url_for("records.unmatched"))


@bp.route("/records/unmatched/<id:report_id>/discard", methods=["POST"])
@requires("records.import")
def discard(report_id: int):
    report = importer.get_report(report_id)
    if report is None or report.status != "unmatched":
        abort(404)
    report.status, report.pending = "discarded", None
    db.session.commit()
    return redirect(url_for("records.unmatched"))


def _filter_args(filters: alerts.Filters, **override) -> dict:
    """The query arguments that choose ``filters`` (with ``override``)."""
    values = {"tier": filters.tier, "status": filters.status or "all", "doctor": filters.doctor,
              "since": filters.since.isoformat() if filters.since else "",
              "until": filters.until.isoformat() if filters.until else "", "page": filters.page}
    values.update(override)
    return {k: v for k, v in values.items() if v not in ("", None, 1)}


def _ack_form() -> AckForm:
    form = AckForm()
    form.informed.choices = [("", _("Choose…"))] + [(k, str(v)) for k, v in labels.INFORMED.items()]
    return form


@bp.route("/alerts")
@requires("alerts.view")
def alert_list():
    filters = alerts.parse_filters(request.args)
    who = _viewer()
    rows, total = alerts.page_of(who, filters)
    pages = max(1, -(-total // alerts.PAGE_SIZE))
    context = {"alerts": rows, "total": total, "pages": pages, "filters": filters,
               "items": alerts.items_of(a.id for a in rows),
               "patients": patients.get_many(a.patient_id for a in rows),
               "doctors": staff.active_staff(alerts.BACKUP_ROLES),
               "staff_names": {u.id: u.name for u in staff.list_staff()},
               "form": _ack_form(), "bulk_form": BulkAckForm(formdata=None), "filter_args": _filter_args,
               "deadline": alerts.deadline_label}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "alert-results":
        return render_template("records/alerts_results.html", **context)
    return render_template("records/alerts.html", **context)


def _list_args(form_data) -> dict:
    """The alert list's filters a posted form carried, to return to the same list."""
    return _filter_args(alerts.parse_filters(form_data))


@bp.route("/alerts/<id:alert_id>/ack", methods=["POST"])
@requires("alerts.ack")
def acknowledge(alert_id: int):
    alert = found_or_404(alerts.get(alert_id))
    form = _ack_form()
    if not form.validate_on_submit():
        flash(_("Please write what was done about this result."))
        return redirect(url_for("records.alert_list", **_list_args(request.form)))
    try:
        done = alerts.acknowledge(alert, required(form.note), current_user.id, informed=form.informed.data or "",
                                  informed_name=form.informed_name.data or "")
    except alerts.AlertError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()))
        return redirect(url_for("records.alert_list", **_list_args(request.form)))
    db.session.commit()
    flash(_("Alert acknowledged.") if done else _("This alert was acknowledged already."))
    return redirect(url_for("records.alert_list", **_list_args(request.form)))


@bp.route("/alerts/ack", methods=["POST"])
@requires("alerts.ack")
def acknowledge_many():
    form = BulkAckForm()
    ids = [int(v) for v in request.form.getlist("ids") if v.isdecimal() and len(v) < 19]
    if not ids:
        flash(_("Choose the alerts to acknowledge."))
        return redirect(url_for("records.alert_list", **_list_args(request.form)))
    if not form.validate_on_submit():
        flash(_("Please write what was done about these results."))
        return redirect(url_for("records.alert_list", **_list_args(request.form)))
    done, critical = alerts.bulk_acknowledge(ids, required(form.note), current_user.id)
    db.session.commit()
    message = ngettext("%(num)d alert acknowledged.", "%(num)d alerts acknowledged.", done)
    if critical:
        message += " " + ngettext(
            "%(num)d critical alert left open: acknowledge it on its own, with who was informed.",
            "%(num)d critical alerts left open: acknowledge each on its own, with who was informed.", critical)
    flash(message)
    return redirect(url_for("records.alert_list", **_list_args(request.form)))


@bp.route("/alerts/settings", methods=["GET", "POST"])
@requires("alerts.settings")
def alert_settings():
    rules = alerts.settings()
    people = staff.active_staff(alerts.BACKUP_ROLES)
    contacts = alerts.contacts()
    form = AlertSettingsForm(data={"ack_minutes": rules.ack_minutes,
                                   "backup_doctor_id": str(rules.backup_doctor_id or "")})
    form.backup_doctor_id.choices = [("", _("None"))] + [(str(u.id), u.name) for u in people]
    problems: dict[str, str] = {}
    if form.validate_on_submit():
        choice = form.backup_doctor_id.data or ""
        chosen = {}
        for person in people:
            backup = request.form.get(f"backup-{person.id}", "")
            chosen[person.id] = (int(backup) if backup.isdecimal() and len(backup) < 19 else None,
                                 (request.form.get(f"mobile-{person.id}") or "").strip()[:20])
        try:
            alerts.update_settings(ack_minutes=form.ack_minutes.data,
                                   backup_doctor_id=int(choice) if choice.isdecimal() and len(choice) < 19 else None,
                                   people=chosen)
        except alerts.AlertError as exc:
            db.session.rollback()
            problems = exc.errors
            exc.show_on(form)
        else:
            db.session.commit()
            flash(_("Critical-value settings saved."))
            return redirect(url_for("records.alert_settings"))
    masked = {sid: identity.mask_mobile(c.mobile) for sid, c in contacts.items() if c.mobile}
    return render_template("records/alerts_settings.html", form=form, people=people, contacts=contacts,
                           masked=masked, problems=problems), (400 if form.errors or problems else 200)


def _viewer() -> alerts.Viewer:
    """Whose alerts the signed-in person sees, worked out once a request (the top bar asks twice)."""
    if "alert_viewer" not in g:
        g.alert_viewer = alerts.viewer(current_user)
    return g.alert_viewer


def alert_count() -> int:
    if not current_user or not current_user.is_authenticated or not current_user.can("alerts.view"):
        return 0
    return alerts.open_count(_viewer())


def critical_alerts() -> dict:
    """The red banner: the open critical alerts the signed-in person sees."""
    if not current_user or not current_user.is_authenticated or not current_user.can("alerts.view"):
        return {"count": 0}
    rows, count = alerts.open_critical(_viewer())
    return {"count": count, "alerts": rows, "patients": patients.get_many(a.patient_id for a in rows),
            "deadline": alerts.deadline_label}
