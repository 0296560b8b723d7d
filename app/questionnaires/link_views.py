"""The signed link a patient gets by SMS or email: it opens that one
response, and nothing else of the portal (see responses.read_token)."""
from flask import Blueprint, g, render_template, request, url_for

from app.core.access import public
from app.patients import services as patients
from app.questionnaires import fill as filling
from app.questionnaires import responses

bp = Blueprint("questionnaire_links", __name__, url_prefix="/q")


def _open(token: str):
    found = responses.read_token(token, g.tenant.id)
    patient = patients.get(found.patient_id) if found is not None else None
    return found, patient


def _gone():
    return render_template("questionnaires/link_gone.html"), 404


def _urls(token: str) -> dict:
    return {"save_url": url_for("questionnaire_links.save", token=token),
            "submit_url": url_for("questionnaire_links.fill", token=token)}


@bp.route("/<token>", methods=["GET", "POST"])
@public
def fill(token: str):
    found, patient = _open(token)
    if found is None or patient is None:
        return _gone()
    if request.method == "POST":
        return filling.submit(found, patient, actor_label=f"link:{patient.card_no}", **_urls(token))
    return filling.show(found, patient, **_urls(token))


@bp.route("/<token>/save", methods=["POST"])
@public
def save(token: str):
    found, patient = _open(token)
    if found is None or patient is None or found.status == "submitted":
        return _gone()
    return filling.autosave(found)
