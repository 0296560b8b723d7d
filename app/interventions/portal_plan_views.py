"""The patient's care plans in the portal (phone first): the active plans
with today's actions to tick, a form to record a home measurement, and the
goals with the latest values. Nothing here takes a patient id from the
address; a plan is shown only to its own patient."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.core import clock
from app.core.access import public
from app.interventions import plan_close, plan_home, plan_progress, plan_templates
from app.portal import services as portal
from tenants.db import db

bp = Blueprint("portal_plans", __name__, url_prefix="/portal/plans")


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _page(patient, *, reading=None, errors=None, status: int = 200):
    plans = plan_close.of_patient(patient.id, active_only=True)
    today = clock.today()
    shown = []
    for plan in plans:
        done = plan_progress.ticks(plan)
        shown.append({"plan": plan, "done_today": plan_home.done_today(plan, today),
                      "this_week": plan_home.done_this_week(plan, today),
                      "goals": plan_progress.goals(plan, _locale(), today=today, done=done)})
    return render_template("interventions/plan_portal.html", patient=patient, plans=shown, today=today,
                           reading=reading or plan_home.HomeReading(), errors=errors or {},
                           measures=["bp", "weight", "glucose"], locale=_locale(),
                           lang="en" if _locale().startswith("en") else "zh",
                           pack=plan_templates.conditioning_pack()), status


@bp.route("")
@public
def index():
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    return _page(patient)


@bp.route("/reading", methods=["POST"])
@public
def record_reading():
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    reading = plan_home.HomeReading.from_form(request.form)
    try:
        count = plan_home.record(patient, reading)
    except plan_home.ReadingError as exc:
        db.session.rollback()
        return _page(patient, reading=reading, errors=exc.errors, status=422)
    db.session.commit()
    flash(_("Saved: %(n)d measurements. Thank you.", n=count))
    return redirect(url_for("portal_plans.index") + "#reading")


@bp.route("/<id:plan_id>/tick", methods=["POST"])
@public
def tick(plan_id: int):
    patient = portal.signed_in_patient()
    if patient is None:
        return portal.to_sign_in()
    plan = plan_close.get(plan_id)
    if plan is None or plan.patient_id != patient.id:
        abort(404)
    if not plan_home.tick(plan, request.form.get("action", ""), request.form.get("done") == "1"):
        abort(404)
    db.session.commit()
    return redirect(url_for("portal_plans.index") + f"#plan-{plan.id}")
