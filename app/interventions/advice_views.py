"""Staff pages of a patient's advice: the section on the patient page
(loaded by htmx, and a page of its own), composing a draft, editing its
entries in place, releasing it; one sheet as released."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.core.htmx import wants_partial
from app.interventions import advice_reading, advice_sheets
from app.patients import services as patients
from tenants.db import db

bp = Blueprint("advice", __name__)


def _context(patient, **extra) -> dict:
    return {"patient": patient, "sheets": advice_sheets.sheets_for(patient.id),
            "reason_words": advice_reading.reason_words,
            "number_lines": advice_reading.number_lines, "editing": None, "errors": {}, "typed": {}, **extra}


def _section(patient, status: int = 200, **extra):
    context = _context(patient, **extra)
    if wants_partial():
        return render_template("interventions/_advice_section.html", **context), status
    return render_template("interventions/advice_page.html", **context), status


def _sheet(patient, sheet_id: int, *, for_update: bool = False):
    return found_or_404(advice_sheets.get(sheet_id, patient.id, for_update=for_update))


def _back(patient):
    return redirect(url_for("advice.patient_advice", patient_id=patient.id) + "#advice")


@bp.route("/patients/<id:patient_id>/advice")
@requires("advice.view")
def patient_advice(patient_id: int):
    return _section(found_or_404(patients.get(patient_id)))


@bp.route("/patients/<id:patient_id>/advice/compose", methods=["POST"])
@requires("advice.edit")
def compose(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    _sheet_row, created = advice_sheets.compose(patient, actor_id=current_user.id)
    db.session.commit()
    message = _("A draft was composed.") if created else _("There is a draft already: it is below.")
    if wants_partial():
        return _section(patient, notice=message)
    flash(message)
    return _back(patient)


@bp.route("/patients/<id:patient_id>/advice/<id:sheet_id>")
@requires("advice.view")
def sheet_page(patient_id: int, sheet_id: int):
    patient = found_or_404(patients.get(patient_id))
    sheet = _sheet(patient, sheet_id)
    return render_template("interventions/advice_sheet.html", **_context(patient, sheet=sheet))


@bp.route("/patients/<id:patient_id>/advice/<id:sheet_id>/recompose", methods=["POST"])
@requires("advice.edit")
def recompose(patient_id: int, sheet_id: int):
    patient = found_or_404(patients.get(patient_id))
    sheet = _sheet(patient, sheet_id, for_update=True)
    if sheet.status != "draft":
        message = _("This sheet is released and stays as it is; compose a new draft for changes.")
    else:
        advice_sheets.recompose(sheet, patient)
        db.session.commit()
        message = _("The draft was composed again from the library.")
    if wants_partial():
        return _section(patient, notice=message)
    flash(message)
    return _back(patient)


def _entry(patient, sheet, index: int, **extra):
    if not 0 <= index < len(sheet.entries):
        abort(404)
    context = _context(patient, sheet=sheet, index=index, entry=sheet.entries[index], **extra)
    if wants_partial():
        return render_template("interventions/_advice_entry.html", **context)
    return render_template("interventions/advice_page.html", **context)


@bp.route("/patients/<id:patient_id>/advice/<id:sheet_id>/entries/<int:index>")
@requires("advice.view")
def entry(patient_id: int, sheet_id: int, index: int):
    patient = found_or_404(patients.get(patient_id))
    return _entry(patient, _sheet(patient, sheet_id), index)


@bp.route("/patients/<id:patient_id>/advice/<id:sheet_id>/entries/<int:index>/edit")
@requires("advice.edit")
def edit_entry_form(patient_id: int, sheet_id: int, index: int):
    patient = found_or_404(patients.get(patient_id))
    sheet = _sheet(patient, sheet_id)
    if sheet.status != "draft":
        return _entry(patient, sheet, index)
    return _entry(patient, sheet, index, editing=(sheet.id, index))


@bp.route("/patients/<id:patient_id>/advice/<id:sheet_id>/entries/<int:index>", methods=["POST"])
@requires("advice.edit")
def edit_entry(patient_id: int, sheet_id: int, index: int):
    patient = found_or_404(patients.get(patient_id))
    sheet = _sheet(patient, sheet_id, for_update=True)
    if not 0 <= index < len(sheet.entries):
        abort(404)
    title, body = request.form.get("title", ""), request.form.get("body", "")
    try:
        advice_sheets.edit_entry(sheet, index, title=title, body=body)
    except advice_sheets.SheetLocked:
        db.session.rollback()
        return _entry(patient, _sheet(patient, sheet_id), index,
                      entry_notice=_("This sheet is released and stays as it is; compose a new draft for changes."))
    except FieldErrors as exc:
        db.session.rollback()
        sheet = _sheet(patient, sheet_id)
        return _entry(patient, sheet, index, editing=(sheet.id, index), errors=exc.errors,
                      typed={"title": title, "body": body}), 422
    db.session.commit()
    if wants_partial():
        return _entry(patient, sheet, index, entry_notice=_("Saved."))
    flash(_("Saved."))
    return _back(patient)


@bp.route("/patients/<id:patient_id>/advice/<id:sheet_id>/entries/<int:index>/remove", methods=["POST"])
@requires("advice.edit")
def remove_entry(patient_id: int, sheet_id: int, index: int):
    patient = found_or_404(patients.get(patient_id))
    sheet = _sheet(patient, sheet_id, for_update=True)
    if not 0 <= index < len(sheet.entries):
        abort(404)
    try:
        advice_sheets.remove_entry(sheet, index)
        db.session.commit()
        message = _("The entry was taken off the draft.")
    except advice_sheets.SheetLocked:
        db.session.rollback()
        message = _("This sheet is released and stays as it is; compose a new draft for changes.")
    if wants_partial():
        return _section(patient, notice=message)
    flash(message)
    return _back(patient)


@bp.route("/patients/<id:patient_id>/advice/<id:sheet_id>/release", methods=["POST"])
@requires("advice.edit")
def release(patient_id: int, sheet_id: int):
    patient = found_or_404(patients.get(patient_id))
    sheet = _sheet(patient, sheet_id)
    try:
        released = advice_sheets.release(sheet, actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        return _section(patient, 422, errors=exc.errors)
    db.session.commit()
    message = (_("Released: the patient can read it in the portal and has been told.") if released
               else _("This sheet was released already."))
    if wants_partial():
        return _section(patient, notice=message)
    flash(message)
    return _back(patient)
