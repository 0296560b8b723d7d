"""Clinic admins: follow-up plans (list, create, edit) with errors next to fields."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.core.access import requires
from app.followups import plans
from app.tagging import services as tagging
from tenants.db import db

bp = Blueprint("followups_admin", __name__)


@bp.route("/followups/plans")
@requires("followups.manage")
def plan_list():
    return render_template("followups/plans.html", plans=plans.list_plans())


def _form(plan=None, draft=None, errors=None, status=200):
    return render_template("followups/plan_edit.html", plan=plan, draft=draft or plans.PlanDraft(),
                           errors=errors or {},
                           tag_names=[tag.name for tag in tagging.all_tags()]), status


def _draft_from_request() -> plans.PlanDraft:
    form = request.form
    return plans.PlanDraft(name=form.get("name", ""), trigger=form.get("trigger", ""),
                           trigger_tag=form.get("trigger_tag", ""), schedule=form.get("schedule", ""),
                           interval_days=form.get("interval_days", ""), duration_months=form.get("duration_months", ""),
                           offsets=form.get("offsets", ""), channel=form.get("channel", ""),
                           max_attempts=form.get("max_attempts", ""), active=form.get("active") == "y",
                           remind_patient=form.get("remind_patient") == "y",
                           questionnaire_key=form.get("questionnaire_key", ""))


def _save(plan=None):
    draft = _draft_from_request()
    try:
        values = plans.check(draft, plan_id=plan.id if plan else None)
    except plans.PlanInvalid as exc:
        return _form(plan, draft, exc.errors, 422)
    plans.save(values, plan)
    db.session.commit()
    flash(_("Plan saved. It applies to patients enrolled from now on."))
    return redirect(url_for("followups_admin.plan_list"))


@bp.route("/followups/plans/new", methods=["GET", "POST"])
@requires("followups.manage")
def plan_new():
    return _save() if request.method == "POST" else _form()


@bp.route("/followups/plans/<id:plan_id>", methods=["GET", "POST"])
@requires("followups.manage")
def plan_edit(plan_id: int):
    plan = plans.get(plan_id)
    if plan is None:
        abort(404)
    return _save(plan) if request.method == "POST" else _form(plan, plans.PlanDraft.of(plan))
