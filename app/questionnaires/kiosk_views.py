"""Kiosk mode on the front-desk tablet: a staff member starts it from the
patient's questionnaires for an open response; this browser then shows that
response's form and nothing else of the clinic (every other page redirects
to it, the staff navigation is hidden) until a staff PIN unlocks it, after
the submission's thank-you page too. Starting and ending are audited."""
from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from htmx_flask import make_response

from app.core import audit, clock
from app.core.access import public, requires
from app.core.errors import FieldErrors, found_or_404
from app.patients import services as patients
from app.questionnaires import definition as definitions
from app.questionnaires import fill as filling
from app.questionnaires import kiosk, responses, submission
from app.questionnaires.form_input import answers_from_form
from app.questionnaires.results import labelled_scores
from tenants.db import db

bp = Blueprint("questionnaire_kiosk", __name__)

STATE = "kiosk"
# what a locked browser may still reach: the form, its saving and submitting, the unlock, the language
OPEN_ENDPOINTS = frozenset({"static", "questionnaire_kiosk.fill", "questionnaire_kiosk.save",
                            "questionnaire_kiosk.unlock", "core.set_language"})


def _state() -> dict | None:
    state = session.get(STATE)
    tenant = g.get("tenant")
    if not isinstance(state, dict) or tenant is None or state.get("t") != tenant.id:
        return None
    return state


@bp.before_app_request
def _locked():
    """While this browser is locked to a response, every other page leads back to its form."""
    if _state() is None or request.endpoint in OPEN_ENDPOINTS:
        return None
    target = url_for("questionnaire_kiosk.fill")
    if request.headers.get("HX-Request"):
        return make_response("", 200, redirect=target)
    return redirect(target)


@bp.route("/questionnaires/responses/<id:response_id>/kiosk", methods=["POST"])
@requires("questionnaires.send")
def start(response_id: int):
    found = found_or_404(responses.get(response_id))
    patient = found_or_404(patients.get(found.patient_id))
    if found.status not in responses.OPEN or (found.expires_at is not None and found.expires_at <= clock.utcnow()):
        flash(_("This questionnaire can no longer be filled in."), "error")
    elif not kiosk.has_pin():
        flash(_("An administrator must set the tablet PIN first (Questionnaires, Settings)."), "error")
    else:
        session[STATE] = {"t": g.tenant.id, "r": found.id, "p": patient.id, "by": current_user.id, "fails": 0,
                          "until": 0.0}
        audit.record("kiosk_started", patient_id=patient.id, response=found.id)
        db.session.commit()
        return redirect(url_for("questionnaire_kiosk.fill"))
    return redirect(url_for("patients.detail", patient_id=patient.id))


def _open(state: dict):
    found = responses.get(int(state["r"]))
    patient = patients.get(found.patient_id) if found is not None else None
    return found, patient


def _page(found, patient, *, answers: dict | None = None, errors: dict | None = None, unlock_error: str = "",
          status: int = 200):
    """The kiosk's one page: the form, or its thank-you page once submitted (or a word that it was
    withdrawn), with the staff's unlock form. The staff navigation is not shown."""
    common = {"nav_user": None, "kiosk_mode": True, "unlock_error": unlock_error, "patient": patient}
    if found is None or patient is None or found.status == "cancelled":
        return render_template("questionnaires/kiosk_done.html", response=None, defn=None, scores=[],
                               **common), status
    defn = responses.definition_of(found)
    if found.status == "submitted":
        return render_template("questionnaires/kiosk_done.html", response=found, defn=defn,
                               scores=labelled_scores(defn, found.scores), **common), status
    answers = found.answers or {} if answers is None else answers
    return render_template("questionnaires/kiosk.html", response=found, defn=defn, answers=answers,
                           errors=errors or {}, visible=set(definitions.visible_questions(defn, answers)),
                           **common), status


def _away():
    return redirect(url_for("home.dashboard"))


@bp.route("/kiosk", methods=["GET", "POST"])
@public
def fill():
    state = _state()
    if state is None:
        return _away()
    found, patient = _open(state)
    if request.method == "GET" or found is None or patient is None or found.status not in responses.OPEN:
        return _page(found, patient)
    defn = responses.definition_of(found)
    raw = answers_from_form(defn, request.form)
    try:
        submission.submit(found, patient, raw, actor_label="kiosk")
    except FieldErrors as exc:
        db.session.commit()  # the answers are kept, as typed
        errors = dict(exc.errors)
        errors.setdefault("", _("Some answers need your attention."))
        return _page(found, patient, answers=definitions.clean_answers(defn, raw), errors=errors, status=400)
    found.channel = "kiosk"
    db.session.commit()
    return redirect(url_for("questionnaire_kiosk.fill"))


@bp.route("/kiosk/save", methods=["POST"])
@public
def save():
    state = _state()
    if state is None:
        return _away()
    found, patient = _open(state)
    if found is None or patient is None or found.status not in responses.OPEN:
        return "", 409
    return filling.autosave(found)


@bp.route("/kiosk/unlock", methods=["POST"])
@public
def unlock():
    state = _state()
    if state is None:
        return _away()
    verdict = kiosk.check_pin(request.form.get("pin", ""), kiosk.Tries(int(state.get("fails", 0)),
                                                                        float(state.get("until", 0.0))))
    found, patient = _open(state)
    if not verdict.ok:
        session[STATE] = {**state, "fails": verdict.tries.fails, "until": verdict.tries.until}
        if verdict.wait_seconds:
            minutes = (verdict.wait_seconds + 59) // 60
            message = ngettext("Too many wrong PINs: try again in %(num)d minute.",
                               "Too many wrong PINs: try again in %(num)d minutes.", minutes)
        else:
            message = ngettext("Wrong PIN: %(num)d try left.", "Wrong PIN: %(num)d tries left.", verdict.left)
        return _page(found, patient, unlock_error=message, status=429 if verdict.wait_seconds else 400)
    session.pop(STATE, None)
    actor_id = current_user.id if current_user.is_authenticated else state.get("by")
    audit.record("kiosk_ended", patient_id=state.get("p"), actor_id=actor_id, response=state.get("r"),
                 submitted=found is not None and found.status == "submitted")
    db.session.commit()
    if current_user.is_authenticated and state.get("p"):
        return redirect(url_for("patients.detail", patient_id=int(state["p"])))
    return _away()
