"""Staff pages of stage summaries: the patient's summaries and a form for a new one's period; one summary
to edit (a draft), sign (a doctor) or amend with a reason (a signed one)."""
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.interventions import services as interventions
from app.patients import services as patients
from app.reports import summaries
from tenants.db import db

bp = Blueprint("summaries", __name__)


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat((request.form.get(name) or "").strip()[:10])
    except ValueError:
        return None


def _list_page(patient, *, errors: dict | None = None, typed: dict | None = None, status: int = 200):
    rows = summaries.of_patient(patient.id)
    return render_template("reports/summaries.html", patient=patient, rows=rows, errors=errors or {},
                           typed=typed or {"kind": "since_last"}, plans=interventions.plans_of_patient(patient.id),
                           people=staff.get_many(r.signed_by for r in rows if r.signed_by)), status


@bp.route("/patients/<id:patient_id>/summaries")
@requires("summaries.view")
def patient_summaries(patient_id: int):
    return _list_page(found_or_404(patients.get(patient_id)))


@bp.route("/patients/<id:patient_id>/summaries", methods=["POST"])
@requires("summaries.write")
def draft(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    typed = {key: (request.form.get(key) or "").strip()[:20] for key in ("kind", "plan_id", "start", "end")}
    try:
        plan_id = int(typed["plan_id"]) if typed["plan_id"].isdigit() else None
        period = summaries.period_for(patient.id, typed["kind"], plan_id=plan_id, start=_day("start"),
                                      end=_day("end"))
        summary = summaries.start_draft(patient, period, actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        return _list_page(patient, errors=exc.errors, typed=typed, status=400)
    db.session.commit()
    return redirect(url_for("summaries.summary", patient_id=patient.id, summary_id=summary.id))


def _summary_page(patient, summary, *, errors: dict | None = None, typed_text: str | None = None,
                  typed_reason: str = "", status: int = 200):
    chain = summaries.versions(summary)
    return render_template("reports/summary.html", patient=patient, summary=summary, chain=chain,
                           text=summary.text if typed_text is None else typed_text, reason=typed_reason,
                           errors=errors or {},
                           people=staff.get_many({v.signed_by for v in chain} | {v.created_by for v in chain})), status


@bp.route("/patients/<id:patient_id>/summaries/<id:summary_id>")
@requires("summaries.view")
def summary(patient_id: int, summary_id: int):
    patient = found_or_404(patients.get(patient_id))
    return _summary_page(patient, found_or_404(summaries.get(summary_id, patient.id)))


@bp.route("/patients/<id:patient_id>/summaries/<id:summary_id>", methods=["POST"])
@requires("summaries.write")
def save(patient_id: int, summary_id: int):
    """Save the draft's text, or (the sign button, a doctor) save and sign it."""
    patient = found_or_404(patients.get(patient_id))
    found = found_or_404(summaries.get(summary_id, patient.id))
    text = request.form.get("text", "")
    signing = request.form.get("action") == "sign"
    if signing and not current_user.can("summaries.sign"):
        return _summary_page(patient, found, errors={"text": _("Only a doctor signs a summary.")},
                             typed_text=text, status=403)
    try:
        if signing:
            summaries.sign(found, text, actor_id=current_user.id)
        else:
            summaries.save_text(found, text)
    except FieldErrors as exc:
        db.session.rollback()
        return _summary_page(patient, found, errors=exc.errors, typed_text=text, status=400)
    except summaries.SummaryLocked:
        db.session.rollback()
        return _summary_page(patient, found, errors={"text": _("This version is signed and stays as it is: amend it "
                                                               "to change it.")}, typed_text=text, status=409)
    db.session.commit()
    flash(_("The summary is signed.") if signing else _("The draft is saved."))
    return redirect(url_for("summaries.summary", patient_id=patient.id, summary_id=found.id))


@bp.route("/patients/<id:patient_id>/summaries/<id:summary_id>/amend", methods=["POST"])
@requires("summaries.sign")
def amend(patient_id: int, summary_id: int):
    patient = found_or_404(patients.get(patient_id))
    found = found_or_404(summaries.get(summary_id, patient.id))
    reason = request.form.get("reason", "")
    try:
        following = summaries.amend(found, reason, actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        return _summary_page(patient, found, errors=exc.errors, typed_reason=reason[:400], status=400)
    db.session.commit()
    return redirect(url_for("summaries.summary", patient_id=patient.id, summary_id=following.id))
