"""Staff pages: the clinic's questionnaires, sending one, a patient's
responses, a response as the patient saw it, intake-form proposals."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.core.htmx import wants_partial
from app.core.ids import form_id
from app.patients import services as patients
from app.questionnaires import delivery, library, proposals, responses, results
from app.tagging import services as tagging
from tenants.db import db

bp = Blueprint("questionnaires", __name__)


def _locale() -> str:
    return str(get_locale())


@bp.route("/questionnaires")
@requires("questionnaires.send")
def index():
    if library.sync_pack():
        db.session.commit()
    return render_template("questionnaires/index.html", questionnaires=library.all_questionnaires(),
                           counts=library.counts())


@bp.route("/questionnaires/<id:questionnaire_id>")
@requires("questionnaires.view")
def detail(questionnaire_id: int):
    questionnaire = found_or_404(library.get(questionnaire_id))
    version = library.current_version(questionnaire)
    return render_template("questionnaires/detail.html", questionnaire=questionnaire, version=version,
                           versions=library.versions(questionnaire), tags=tagging.all_tags(),
                           summary=results.summary(questionnaire), errors={}, form={})


@bp.route("/questionnaires/<id:questionnaire_id>/preview")
@requires("questionnaires.send")
def preview(questionnaire_id: int):
    questionnaire = found_or_404(library.get(questionnaire_id))
    version = found_or_404(library.current_version(questionnaire))
    return render_template("questionnaires/preview.html", questionnaire=questionnaire,
                           defn=version.definition, answers={}, errors={}, visible=None)


@bp.route("/questionnaires/<id:questionnaire_id>/send", methods=["POST"])
@requires("questionnaires.view")
def send(questionnaire_id: int):
    questionnaire = found_or_404(library.get(questionnaire_id))
    if not questionnaire.current_version:  # a builder's draft not published yet
        flash(_("This questionnaire has no published version yet."), "error")
        return redirect(url_for("questionnaires.detail", questionnaire_id=questionnaire.id))
    channel = request.form.get("channel", "")
    channel = channel if channel in ("sms", "email") else ""
    errors, targets = {}, []
    card_no = request.form.get("card_no", "").strip()
    tag_id = form_id(request.form.get("tag_id"))
    if card_no:
        patient = patients.find_by_card_no(card_no)
        if patient is None:
            errors["card_no"] = _("No patient has card number %(card)s.", card=card_no)
        else:
            targets = [patient]
    elif tag_id is not None and tagging.get_tag(tag_id) is not None:
        targets = delivery.patients_with_tag(tag_id)
        if not targets:
            errors["tag_id"] = _("Nobody carries this tag.")
    else:
        errors["card_no"] = _("Enter a card number or choose a tag.")
    if errors:
        return render_template("questionnaires/detail.html", questionnaire=questionnaire,
                               version=library.current_version(questionnaire),
                               versions=library.versions(questionnaire), tags=tagging.all_tags(),
                               summary=results.summary(questionnaire), errors=errors,
                               form=request.form), 400
    sent = delivery.send(questionnaire, targets, actor_id=current_user.id, channel=channel)
    db.session.commit()
    flash(ngettext("Sent to %(num)d patient.", "Sent to %(num)d patients.", sent.messaged), "success")
    if sent.unreachable:
        flash(ngettext("%(num)d patient has no address on that channel: they can fill it in the portal.",
                       "%(num)d patients have no address on that channel: they can fill it in the portal.",
                       sent.unreachable), "warning")
    return redirect(url_for("questionnaires.detail", questionnaire_id=questionnaire.id))


@bp.route("/patients/<id:patient_id>/questionnaires")
@requires("questionnaires.send")
def patient_responses(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    context = {"patient": patient, "rows": results.patient_rows(patient.id),
               "questionnaires": library.all_questionnaires(),
               "pending": proposals.pending(patient.id) if current_user.can("questionnaires.view") else []}
    if wants_partial():
        return render_template("questionnaires/_patient.html", **context)
    return render_template("questionnaires/patient.html", **context)


@bp.route("/patients/<id:patient_id>/questionnaires/send", methods=["POST"])
@requires("questionnaires.send")
def send_to_patient(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    chosen = form_id(request.form.get("questionnaire_id"))
    questionnaire = library.get(chosen) if chosen is not None else None
    if questionnaire is None or not questionnaire.current_version:
        flash(_("Please choose a questionnaire."), "error")
    else:
        sent = delivery.send(questionnaire, [patient], actor_id=current_user.id)
        db.session.commit()
        if sent.messaged:
            flash(_("The questionnaire link was sent."), "success")
        else:
            flash(_("The patient has no mobile or email: they can fill it in the portal."), "warning")
    return redirect(url_for("patients.detail", patient_id=patient.id))


@bp.route("/questionnaires/responses/<id:response_id>")
@requires("questionnaires.view")
def response(response_id: int):
    found = found_or_404(responses.get(response_id))
    patient = found_or_404(patients.get(found.patient_id))
    defn = responses.definition_of(found)
    return render_template("questionnaires/response.html", response=found, patient=patient, defn=defn,
                           answers=found.answers or {}, scores=results.labelled_scores(defn, found.scores),
                           proposals=proposals.of_response(found.id))


@bp.route("/questionnaires/responses/<id:response_id>/cancel", methods=["POST"])
@requires("questionnaires.send")
def cancel(response_id: int):
    found = found_or_404(responses.get(response_id))
    if responses.cancel(found, actor_id=current_user.id):
        db.session.commit()
        flash(_("The request was withdrawn: its link no longer opens."), "success")
    return redirect(url_for("patients.detail", patient_id=found.patient_id))


@bp.route("/questionnaires/proposals/<id:proposal_id>", methods=["POST"])
@requires("patients.history")
def decide(proposal_id: int):
    proposal = found_or_404(proposals.get(proposal_id))
    try:
        done = proposals.decide(proposal, accept=request.form.get("decision") == "accept",
                                actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
        return redirect(url_for("questionnaires.response", response_id=proposal.response_id))
    if done:
        db.session.commit()
    return redirect(url_for("questionnaires.response", response_id=proposal.response_id))
