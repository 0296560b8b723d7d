"""Staff pages: a patient's risk assessments (a section of the patient page,
loaded by htmx, and a page of its own) and one model's history."""
from flask import Blueprint, render_template
from markupsafe import Markup

from app.core.access import requires
from app.core.errors import found_or_404
from app.core.htmx import wants_partial
from app.patients import services as patients
from app.risk import reading
from app.risk.definitions import all_models

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
