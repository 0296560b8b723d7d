"""The patient's released advice in the portal, on a phone-sized page. No
page takes a patient id: the patient is the portal session's."""
from flask import Blueprint, abort, render_template

from app.core import audit
from app.core.access import public
from app.interventions import advice_reading, advice_sheets
from app.portal import services as portal
from tenants.db import db

bp = Blueprint("portal_advice", __name__, url_prefix="/portal/advice")


def _page(patient, sheets: list, shown):
    if shown is not None:
        audit.record("portal_advice_viewed", patient_id=patient.id, actor_label=audit.PORTAL_ACTOR, sheet_id=shown.id)
        db.session.commit()
    return render_template("interventions/advice_portal.html", patient=patient, sheets=sheets, shown=shown,
                           number_lines=advice_reading.number_lines)


@bp.route("")
@public
def index():
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    sheets = advice_sheets.released_for(patient.id)
    return _page(patient, sheets, sheets[0] if sheets else None)


@bp.route("/<id:sheet_id>")
@public
def sheet(sheet_id: int):
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    sheets = advice_sheets.released_for(patient.id)
    shown = next((s for s in sheets if s.id == sheet_id), None)
    if shown is None:  # another patient's, a draft, or none at all
        abort(404)
    return _page(patient, sheets, shown)
