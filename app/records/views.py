from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.audit import services as audit
from app.auth.permissions import requires
from app.core import jobs
from app.patients import services as patients
from app.records import alerts, catalogue, importer, services, trends
from app.records.forms import AckForm, AssignForm, EntryForm, UploadForm
from app.records.models import TableMapping
from tenants.db import db

bp = Blueprint("records", __name__)
INLINE_LIMIT = 256 * 1024  # larger uploads import in a background job


def _patient_or_404(patient_id: int):
    patient = patients.get(patient_id)
    if patient is None:
        abort(404)
    return patient


def _mapping_choices():
    rows = db.session.scalars(select(TableMapping).order_by(TableMapping.name))
    return [("", _("Guess from the column titles"))] + [(str(r.id), r.name) for r in rows]


def _mapping(choice: str) -> dict | None:
    if not choice.isdigit():
        return None
    row = db.session.scalar(select(TableMapping).where(TableMapping.id == int(choice)))
    return row.mapping if row else None


@bp.route("/patients/<id:patient_id>/records")
@requires("patients.view")
def patient_records(patient_id: int):
    patient = _patient_or_404(patient_id)
    group = request.args.get("group", "")
    data = trends.build(patient, group)
    locale = str(get_locale())
    charts = {row.indicator.id: trends.chart(row, patient, "zh_CN" if locale.startswith("zh") else "en")
              for row in data.rows if any(o.value is not None for o in row.series)}
    upload = UploadForm()
    upload.mapping.choices = _mapping_choices()
    return render_template("records/patient.html", patient=patient, trends=data, group=group, charts=charts,
                           upload_form=upload, entry_form=EntryForm(), indicators=catalogue.all_indicators())


@bp.route("/patients/<id:patient_id>/observations", methods=["POST"])
@requires("records.enter")
def enter(patient_id: int):
    patient = _patient_or_404(patient_id)
    form = EntryForm()
    if not form.validate_on_submit():
        flash(_("Please give the date of the measurement."))
        return redirect(url_for("records.patient_records", patient_id=patient.id))
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    at = datetime.combine(form.observed_on.data, time(9, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    errors, fresh = [], []
    with db.session.begin_nested():
        for indicator in catalogue.all_indicators():
            text = (request.form.get(f"v-{indicator.id}") or "").strip()
            if not text:
                continue
            unit = request.form.get(f"u-{indicator.id}") or indicator.unit
            try:
                stored = services.store(patient, services.Value(indicator, text, unit, at), actor_id=current_user.id)
            except catalogue.CatalogueError as exc:
                errors.append(str(exc))
                continue
            if stored.observation:
                fresh.append(stored.observation)
        if not errors:
            fresh.extend(services.derive(patient, at))
            alerts.raise_for(patient, fresh)
    if errors:
        db.session.rollback()
        flash(_("Nothing was saved: %(errors)s", errors="; ".join(errors)))
    else:
        audit.record("results_entered", patient_id=patient.id, count=len(fresh))
        db.session.commit()
        flash(_("%(n)d values saved.", n=len(fresh)))
    return redirect(url_for("records.patient_records", patient_id=patient.id))


def _summary_message(summary: importer.ImportSummary) -> str:
    return _("Imported %(reports)d reports (%(results)d results); %(dup)d duplicates skipped; "
             "%(unmatched)d waiting for a patient; %(errors)d errors.", reports=summary.imported,
             results=summary.results, dup=summary.duplicates, unmatched=summary.unmatched,
             errors=len(summary.errors))


@bp.route("/patients/<id:patient_id>/import", methods=["POST"])
@requires("records.import")
def upload_for_patient(patient_id: int):
    patient = _patient_or_404(patient_id)
    form = UploadForm()
    form.mapping.choices = _mapping_choices()
    if not form.validate_on_submit():
        flash(_("Please choose a file."))
        return redirect(url_for("records.patient_records", patient_id=patient.id))
    upload = form.file.data
    summary = importer.import_file(upload.read(importer.MAX_BYTES + 1), upload.filename or "",
                                   mapping=_mapping(form.mapping.data or ""), patient=patient,
                                   actor_id=current_user.id)
    _audit_import(summary, upload.filename, patient.id)
    db.session.commit()
    return render_template("records/import_result.html", summary=summary, message=_summary_message(summary),
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
        if len(data) > INLINE_LIMIT:
            run = jobs.start("report_import", "app.records.jobs.import_upload", requested_by=current_user.id,
                             key=_stash(data), filename=upload.filename or "", mapping=mapping)
            return render_template("records/import.html", form=form, run=run)
        summary = importer.import_file(data, upload.filename or "", mapping=mapping, actor_id=current_user.id)
        _audit_import(summary, upload.filename)
        db.session.commit()
        return render_template("records/import.html", form=form, summary=summary,
                               message=_summary_message(summary)), (200 if not summary.errors else 422)
    return render_template("records/import.html", form=form), (400 if form.errors else 200)


def _audit_import(summary: importer.ImportSummary, filename: str | None, patient_id: int | None = None) -> None:
    audit.record("reports_imported", patient_id=patient_id, file=(filename or "")[:100], reports=summary.imported,
                 results=summary.results, unmatched=summary.unmatched, errors=len(summary.errors))


def _stash(data: bytes) -> str:
    from app.core import storage
    from tenants.context import require_tenant_id

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
    flash(_summary_message(summary) + (" " + "; ".join(summary.errors) if summary.errors else ""))
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


@bp.route("/alerts")
@requires("alerts.view")
def alert_list():
    rows = alerts.open_alerts(current_user.id, everyone=request.args.get("all") == "1")
    names = {p.id: p for p in (patients.get(a.patient_id) for a in rows) if p}
    return render_template("records/alerts.html", alerts=rows, patients=names, form=AckForm())


@bp.route("/alerts/<id:alert_id>/ack", methods=["POST"])
@requires("alerts.ack")
def acknowledge(alert_id: int):
    alert = alerts.get(alert_id)
    if alert is None:
        abort(404)
    form = AckForm()
    if not form.validate_on_submit():
        flash(_("Please write what was done about this result."))
        return redirect(url_for("records.alert_list"))
    alerts.acknowledge(alert, form.note.data, current_user.id)
    audit.record("alert_acknowledged", patient_id=alert.patient_id, alert=alert.summary)
    db.session.commit()
    flash(_("Alert acknowledged."))
    return redirect(url_for("records.alert_list"))


def alert_count() -> int:
    if not current_user or not current_user.is_authenticated or not current_user.can("alerts.view"):
        return 0
    return alerts.open_count(current_user.id)
