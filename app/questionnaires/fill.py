"""Filling in a response, shared by the signed link and the portal: show
the form with what was saved, save as the patient goes (htmx), submit."""
from flask import render_template, request
from flask_babel import gettext as _

from app.core.errors import FieldErrors
from app.questionnaires import definition as definitions
from app.questionnaires import responses, submission
from app.questionnaires.form_input import answers_from_form
from app.questionnaires.results import labelled_scores
from tenants.db import db


def show(response, patient, *, save_url: str, submit_url: str, answers: dict | None = None,
         errors: dict | None = None, status: int = 200):
    defn = responses.definition_of(response)
    if response.status == "submitted":
        return render_template("questionnaires/done.html", response=response, defn=defn,
                               scores=labelled_scores(defn, response.scores)), status
    answers = (response.answers or {}) if answers is None else answers
    return render_template("questionnaires/fill.html", response=response, patient=patient, defn=defn,
                           answers=answers, errors=errors or {}, save_url=save_url, submit_url=submit_url,
                           visible=set(definitions.visible_questions(defn, answers))), status


def autosave(response):
    """htmx: keep the answers so far; answer the little status line."""
    defn = responses.definition_of(response)
    problems = responses.save(response, answers_from_form(defn, request.form))
    db.session.commit()
    return render_template("questionnaires/_saved.html", response=response, problems=problems)


def submit(response, patient, *, save_url: str, submit_url: str, actor_label: str = "", actor_id=None):
    defn = responses.definition_of(response)
    raw = answers_from_form(defn, request.form)
    try:
        submission.submit(response, patient, raw, actor_label=actor_label, actor_id=actor_id)
    except submission.AlreadySubmitted:
        return show(response, patient, save_url=save_url, submit_url=submit_url)
    except FieldErrors as exc:
        db.session.commit()  # the answers are kept, as typed
        errors = dict(exc.errors)
        errors.setdefault("", _("Some answers need your attention."))
        return show(response, patient, save_url=save_url, submit_url=submit_url,
                    answers=definitions.clean_answers(defn, raw), errors=errors, status=400)
    db.session.commit()
    return show(response, patient, save_url=save_url, submit_url=submit_url)
