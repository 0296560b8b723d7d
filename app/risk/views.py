"""Staff pages: a patient's risk assessments (a section of the patient page,
loaded by htmx, and a page of its own), one model's history, and the
population view (patients by model and band) with its enrol action."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.core.access import requires
from app.core.errors import found_or_404
from app.core.htmx import wants_partial
from app.followups import services as followups
from app.patients import services as patients
from app.risk import population, reading
from app.risk.definitions import all_models
from tenants.db import db

bp = Blueprint("risk", __name__)


@bp.route("/patients/<id:patient_id>/risk")
@requires("patients.view")
def patient_risk(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    context = {"patient": patient, "assessments": reading.current_for(patient.id)}
    if wants_partial():
        return render_template("risk/_patient.html", **context)
    return render_template("risk/patient.html", **context)


@bp.route("/patients/<id:patient_id>/risk/<model_id>")
@requires("patients.view")
def history(patient_id: int, model_id: str):
    patient = found_or_404(patients.get(patient_id))
    definition = found_or_404(all_models().get(model_id))
    rows = reading.history_for(patient.id, model_id)
    return render_template("risk/history.html", patient=patient, definition=definition,
                           name=reading.shown(definition, None).name,
                           rows=[reading.shown(definition, row) for row in reversed(rows)],
                           chart=Markup(reading.trend_svg(definition, rows)))  # built from escaped parts


def _page_arg() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdecimal() and 0 < len(value) < 7 else 1


@bp.route("/risk")
@requires("patients.view")
def population_view():
    filters = population.Filters.of(request.args)
    definition = all_models()[filters.model]
    listed = population.page_of(filters, page=_page_arg(), page_size=current_app.config["PAGE_SIZE"])
    return render_template(
        "risk/population.html", filters=filters, listed=listed, counts=population.counts(filters.model),
        models=[(model_id, reading.shown(d, None).name) for model_id, d in all_models().items()],
        bands=[(b["code"], reading.band_words(definition, b["code"])) for b in definition["bands"]],
        plans=followups.plans_to_enrol_in() if current_user.can("followups.enrol") else [])


@bp.route("/risk/enrol", methods=["POST"])
@requires("followups.enrol")
def enrol_listed():
    filters = population.Filters.of(request.form)
    plan_id = request.form.get("plan", "")
    plan = next((p for p in followups.plans_to_enrol_in() if str(p.id) == plan_id), None)
    if plan is None:
        flash(_("Choose an active follow-up plan to enrol the patients in."))
    else:
        definition = all_models()[filters.model]
        started_by = _("Risk list: %(model)s", model=reading.shown(definition, None).name)
        result = followups.enrol_listed(plan, population.patient_ids(filters), started_by=started_by)
        db.session.commit()
        flash(_("%(enrolled)d patients enrolled in “%(plan)s”; %(skipped)d skipped (already following it).",
                enrolled=result.enrolled, plan=plan.name, skipped=result.skipped))
    return redirect(url_for("risk.population_view", **filters.as_args()))
