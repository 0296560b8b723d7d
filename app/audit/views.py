from flask import Blueprint, render_template, request

from app.audit import services
from app.auth import services as staff_services
from app.core.access import requires
from app.patients import services as patients

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdecimal() and len(value) <= 19 else None


@bp.route("")
@requires("audit.view")
def index():
    actor_id, patient_id = _int_arg("staff"), _int_arg("patient")
    patient = patients.get(patient_id) if patient_id else None
    events = services.search(actor_id=actor_id, patient_id=patient_id, limit=200)
    return render_template("audit/index.html", events=events, staff=staff_services.list_staff(),
                           actor_id=actor_id, patient=patient, patient_id=patient_id)
