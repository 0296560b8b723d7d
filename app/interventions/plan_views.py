"""Staff pages of care plans: a patient's plans (a section of the patient
page, loaded by htmx, and a page of its own), starting an intervention plan
from a template or a TCM conditioning plan from the latest constitution
result, a plan's progress and adherence, and closing it with its outcome."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.core import audit, clock
from app.core.access import requires
from app.core.errors import found_or_404
from app.core.htmx import wants_partial
from app.interventions import plan_close, plan_progress, plan_start, plan_tcm, plan_templates
from app.interventions import plan_labels as labels  # noqa: F401  (a template global, see register)
from app.patients import services as patients
from tenants.db import db

bp = Blueprint("interventions", __name__)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _lang() -> str:
    return "en" if _locale().startswith("en") else "zh"


def _templates() -> list[tuple[str, str]]:
    return [(key, plan_templates.text(t["title"], _locale()))
            for key, t in plan_templates.intervention_templates().items()]


@bp.route("/patients/<id:patient_id>/plans")
@requires("patients.view")
def patient_plans(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    context = {"patient": patient, "plans": plan_close.of_patient(patient.id), "templates": _templates(),
               "constitution": plan_tcm.latest(patient.id)}
    if wants_partial():
        return render_template("interventions/plan_patient_section.html", **context)
    return render_template("interventions/plan_patient.html", **context)


def _render_start(patient, draft, *, kind: str, errors=None, responsible: str = "", status: int = 200):
    people = plan_start.responsible_choices()
    if not responsible and current_user.id in {u.id for u in people}:
        responsible = str(current_user.id)
    return render_template("interventions/plan_start.html", patient=patient, draft=draft, kind=kind,
                           errors=errors or {}, people=people, responsible=responsible,
                           sources=plan_templates.sources(), locale=_locale(),
                           pack=plan_templates.conditioning_pack() if kind == "conditioning" else None), status


def _start(patient, draft, kind: str):
    if request.method == "GET":
        return _render_start(patient, draft, kind=kind)
    today = clock.today()
    draft, errors = plan_start.read_form(draft, request.form, today)
    responsible = request.form.get("responsible", "")
    if not errors:
        try:
            plan = plan_start.start(patient, draft, kind=kind, responsible=responsible, actor_id=current_user.id,
                                    today=today)
        except plan_start.PlanError as exc:
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("The plan “%(title)s” started; its follow-up tasks and reminders are scheduled.",
                    title=plan.title))
            return redirect(url_for("interventions.plan_detail", plan_id=plan.id))
    db.session.rollback()
    return _render_start(patient, draft, kind=kind, errors=errors, responsible=responsible, status=422)


@bp.route("/patients/<id:patient_id>/plans/new/<key>", methods=["GET", "POST"])
@requires("followups.work")
def start_plan(patient_id: int, key: str):
    patient = found_or_404(patients.get(patient_id))
    template = found_or_404(plan_templates.template(key))
    return _start(patient, plan_start.draft(template, patient.id, _locale()), "intervention")


@bp.route("/patients/<id:patient_id>/plans/conditioning", methods=["GET", "POST"])
@requires("followups.work")
def start_conditioning(patient_id: int):
    patient = found_or_404(patients.get(patient_id))
    constitution = plan_tcm.latest(patient.id)
    if constitution is None or not (constitution.main or constitution.tendency):
        flash(_("There is no TCM constitution result to base a conditioning plan on."))
        return redirect(url_for("interventions.patient_plans", patient_id=patient.id))
    return _start(patient, plan_tcm.draft(constitution, _locale()), "conditioning")


def _plan_page(plan, *, errors=None, outcome: str = "", note: str = "", status: int = 200):
    patient = found_or_404(patients.get(plan.patient_id))
    done = plan_progress.ticks(plan)
    people = staff.get_many([plan.responsible_id, plan.started_by, plan.closed_by])
    return render_template(
        "interventions/plan_detail.html", plan=plan, patient=patient, locale=_locale(), lang=_lang(),
        goals=plan_progress.goals(plan, _locale(), done=done),
        adherence=plan_progress.adherence(plan, _locale(), done=done), people=people,
        sources=plan_templates.sources(), pack=plan_templates.conditioning_pack(),
        errors=errors or {}, outcome=outcome, note=note), status


@bp.route("/plans/<id:plan_id>")
@requires("patients.view")
def plan_detail(plan_id: int):
    plan = found_or_404(plan_close.get(plan_id))
    audit.record_opened(plan.patient_id)  # the plan shows the patient's results
    db.session.commit()
    return _plan_page(plan)


@bp.route("/plans/<id:plan_id>/close", methods=["POST"])
@requires("followups.work")
def close_plan(plan_id: int):
    plan = found_or_404(plan_close.get(plan_id))
    outcome, note = request.form.get("outcome", ""), request.form.get("note", "")
    try:
        tasks, reminders = plan_close.close(plan, outcome, note, actor_id=current_user.id)
    except plan_start.PlanError as exc:
        db.session.rollback()
        return _plan_page(plan, errors=exc.errors, outcome=outcome, note=note, status=422)
    db.session.commit()
    flash(_("The plan is closed; %(tasks)d follow-up tasks and %(reminders)d reminders were cancelled.",
            tasks=tasks, reminders=reminders))
    return redirect(url_for("interventions.plan_detail", plan_id=plan.id))
