"""The patient's questionnaires in the portal: what the clinic asked for,
filled in with the portal's own sign-in."""
from flask import Blueprint, abort, render_template, request, url_for

from app.core.access import public
from app.portal import services as portal
from app.questionnaires import fill as filling
from app.questionnaires import responses, results

bp = Blueprint("portal_questionnaires", __name__, url_prefix="/portal/questionnaires")


def _patient():
    return portal.signed_in_patient()


@bp.route("")
@public
def index():
    patient = _patient()
    if patient is None:
        return portal.to_sign_in()
    return render_template("questionnaires/portal_list.html", rows=results.patient_rows(patient.id),
                           patient=patient)


def _own(response_id: int, patient):
    found = responses.get(response_id)
    if found is None or found.patient_id != patient.id:
        abort(404)
    return found


def _urls(response_id: int) -> dict:
    return {"save_url": url_for("portal_questionnaires.save", response_id=response_id),
            "submit_url": url_for("portal_questionnaires.fill", response_id=response_id)}


@bp.route("/<id:response_id>", methods=["GET", "POST"])
@public
def fill(response_id: int):
    patient = _patient()
    if patient is None:
        return portal.to_sign_in()
    found = _own(response_id, patient)
    if request.method == "POST":
        return filling.submit(found, patient, **_urls(response_id))
    return filling.show(found, patient, **_urls(response_id))


@bp.route("/<id:response_id>/save", methods=["POST"])
@public
def save(response_id: int):
    patient = _patient()
    if patient is None:
        return portal.to_sign_in()
    found = _own(response_id, patient)
    if found.status == "submitted":
        abort(409)
    return filling.autosave(found)
