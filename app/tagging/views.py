"""Tag rules (clinic admins) and tags on a patient (clinical staff)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from htmx_flask import make_response

from app.core import jobs
from app.core.access import requires
from app.core.errors import found_or_404
from app.core.htmx import wants_partial
from app.patients import services as patients
from app.tagging import conditions, forms, rules, services, sources
from tenants.db import db

bp = Blueprint("tagging", __name__)


def _patient_or_404(patient_id: int):
    return found_or_404(patients.get(patient_id))


# ------------------------------------------------------------------- rules

@bp.route("/tagging/rules")
@requires("tagging.rules")
def rule_list():
    indicators = services.indicators_by_code()
    rows = rules.list_rules()
    tags = {t.id: t for t in services.all_tags()}
    described = {r.id: conditions.describe(r.condition, indicators) for r in rows}
    return render_template("tagging/rules.html", rules=rows, tags=tags, described=described,
                           counts=rules.match_counts(), runs=jobs.recent_runs("tag_rules", limit=1))


def _context(form, op, groups, rule=None, errors=None, preview=None, confirm=False):
    indicators = services.indicators_by_code()
    for name in ("name", "tag", "source"):
        if errors and name in errors:
            getattr(form, name).errors = [errors[name]]
    action_url = url_for("tagging.rule_edit", rule_id=rule.id) if rule else url_for("tagging.rule_new")
    return dict(form=form, op=op, groups=groups, rule=rule, errors=errors or {}, preview=preview,
                action_url=action_url,
                ask_confirm=confirm, sources=conditions.SOURCES, measures=sources.MEASURES,
                cmps=conditions.CMP, flags=conditions.FLAGS, ops=forms.OPS,
                indicators=sorted(indicators.values(), key=lambda i: (i.group, i.code)),
                indicator_map=indicators, tag_names=[t.name for t in services.all_tags()],
                history_kinds=patients.labels.HISTORY_KIND, lifestyle_options=sources.LifestyleSource.options(),
                habit_labels={"smoking": _("Smoking"), "alcohol": _("Alcohol"), "exercise": _("Exercise")})


def _show(context, status=200):
    if wants_partial():
        return render_template("tagging/_rule_form.html", **context), status
    return render_template("tagging/rule_edit.html", **context), status


def _draft(form, op, groups) -> rules.RuleDraft:
    return rules.RuleDraft(name=form.name.data or "", tag=form.tag.data or "", condition=forms.to_tree(op, groups),
                           active=bool(form.active.data), source=form.source.data or "")


def _check(form, op, groups):
    """(tree, None) or (None, errors by field name)."""
    if not form.validate():
        return None, {name: " ".join(str(m) for m in messages) for name, messages in form.errors.items()}
    try:
        return rules.check(_draft(form, op, groups)), None
    except rules.RuleInvalid as exc:
        return None, exc.errors | forms.leaf_errors_by_field(groups, exc.leaf_errors)


def _edit(rule=None):
    if request.method == "GET":
        if rule is None:
            form, op, groups = forms.RuleForm(formdata=None), "and", [forms.Group(leaves=[forms.blank_leaf()])]
        else:
            tag = services.get_tag(rule.tag_id)
            if tag is None:  # a rule goes with its tag (ON DELETE CASCADE)
                raise LookupError(f"rule {rule.id}: tag {rule.tag_id} not found")
            form = forms.RuleForm(formdata=None, name=rule.name, tag=tag.name,
                                  active=rule.active, source=rule.source)
            op, groups = forms.from_tree(rule.condition)
            form.op.data = op
        return _show(_context(form, op, groups, rule))
    form = forms.RuleForm()
    op, groups = form.op.data or "and", forms.parse(request.form)
    action = request.form.get("action", "save")
    if action not in ("save", "preview"):
        return _show(_context(form, op, forms.apply_action(groups, action), rule))
    tree, errors = _check(form, op, groups)
    if errors:
        return _show(_context(form, op, groups, rule, errors=errors), 400)
    preview = rules.preview(tree)
    if action == "preview":
        return _show(_context(form, op, groups, rule, preview=preview))
    if preview.needs_confirmation and not form.confirm.data:
        return _show(_context(form, op, groups, rule, preview=preview, confirm=True), 409)
    rule = rules.save(_draft(form, op, groups), tree, rule, actor_id=current_user.id)
    db.session.commit()
    services.start_evaluation([rule.id], requested_by=current_user.id)
    flash(_("Rule “%(name)s” saved; its tags are being updated for every patient.", name=rule.name))
    target = url_for("tagging.rule_list")
    if request.headers.get("HX-Request"):
        return make_response("", 204, redirect=target)
    return redirect(target)


@bp.route("/tagging/rules/new", methods=["GET", "POST"])
@requires("tagging.rules")
def rule_new():
    return _edit()


@bp.route("/tagging/rules/<id:rule_id>", methods=["GET", "POST"])
@requires("tagging.rules")
def rule_edit(rule_id: int):
    return _edit(found_or_404(rules.get(rule_id)))


@bp.route("/tagging/rules/preview", methods=["POST"])
@requires("tagging.rules")
def rule_preview():
    """The htmx preview: how many patients, and which, the form's rule matches now."""
    form = forms.RuleForm()
    op, groups = form.op.data or "and", forms.parse(request.form)
    tree, errors = _check(form, op, groups)
    if errors:  # show the problems beside their fields: swap the whole form
        rule_id = request.form.get("rule_id", "")
        rule = rules.get(int(rule_id)) if rule_id.isdecimal() and len(rule_id) < 20 else None
        response = make_response(render_template("tagging/_rule_form.html",
                                                  **_context(form, op, groups, rule, errors=errors)), 400)
        response.headers["HX-Retarget"], response.headers["HX-Reswap"] = "#rule-form", "outerHTML"
        return response
    return render_template("tagging/_preview.html", preview=rules.preview(tree))


@bp.route("/tagging/rules/<id:rule_id>/evaluate", methods=["POST"])
@requires("tagging.rules")
def rule_evaluate(rule_id: int):
    rule = found_or_404(rules.get(rule_id))
    run = services.start_evaluation([rule.id], requested_by=current_user.id)
    if request.headers.get("HX-Request"):
        return render_template("core/_job_status.html", run=run), 202
    flash(_("The tags of “%(name)s” are being updated.", name=rule.name))
    return redirect(url_for("tagging.rule_list"))


@bp.route("/tagging/rules/evaluate", methods=["POST"])
@requires("tagging.rules")
def evaluate_all():
    run = services.start_evaluation(None, requested_by=current_user.id)
    return render_template("core/_job_status.html", run=run), 202


@bp.route("/tagging/rules/<id:rule_id>/delete", methods=["POST"])
@requires("tagging.rules")
def rule_delete(rule_id: int):
    rule = found_or_404(rules.get(rule_id))
    name = rule.name
    rules.remove(rule)
    db.session.commit()
    flash(_("Rule “%(name)s” deleted; the tags it applied are gone.", name=name))
    return redirect(url_for("tagging.rule_list"))


# ------------------------------------------------------------ patient tags

def _render_patient_tags(patient, error: str = "", status: int = 200):
    context = dict(patient=patient, patient_tags=services.patient_tags(patient.id), tag_error=error,
                   tag_names=[t.name for t in services.all_tags()])
    if wants_partial():
        return render_template("tagging/_patient_tags.html", **context), status
    if error:
        flash(error)
    return redirect(url_for("patients.detail", patient_id=patient.id))


@bp.route("/patients/<id:patient_id>/tags", methods=["POST"])
@requires("tags.assign")
def add_tag(patient_id: int):
    patient = _patient_or_404(patient_id)
    form = forms.FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.add_manual(patient.id, request.form.get("name", "")[:100], actor_id=current_user.id)
    except services.TagError as exc:
        db.session.rollback()
        return _render_patient_tags(patient, str(exc), 400)
    db.session.commit()
    return _render_patient_tags(patient)


@bp.route("/patients/<id:patient_id>/tags/<id:tag_id>/remove", methods=["POST"])
@requires("tags.assign")
def remove_tag(patient_id: int, tag_id: int):
    patient = _patient_or_404(patient_id)
    if not services.remove_manual(patient.id, tag_id):
        abort(404)
    db.session.commit()
    return _render_patient_tags(patient)
