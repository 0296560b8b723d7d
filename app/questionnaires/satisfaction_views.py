"""Admin pages of satisfaction surveys: the results (NPS and domain scores by
month, package and staff member, with comments), the automatic-survey
settings, and the service-recovery cases (回访处理); and each questionnaire's
XLSX export."""
from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.booking import services as booking
from app.core import audit, clock
from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.followups import services as followups
from app.patients import services as patients
from app.questionnaires import export, library, satisfaction, satisfaction_report
from tenants.db import db

bp = Blueprint("satisfaction", __name__)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _range(args) -> tuple[date, date, dict[str, str]]:
    """The asked date range (default: this month and the eleven before), and errors by field."""
    today = clock.today()
    first = today.replace(day=1)
    for _step in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    errors: dict[str, str] = {}
    start, end = first, today
    if args.get("since"):
        start = _day(args.get("since")) or first
        if _day(args.get("since")) is None:
            errors["since"] = _("Enter a date as YYYY-MM-DD.")
    if args.get("until"):
        end = _day(args.get("until")) or today
        if _day(args.get("until")) is None:
            errors["until"] = _("Enter a date as YYYY-MM-DD.")
    if not errors and start > end:
        errors["until"] = _("The end date is before the start date.")
        start, end = first, today
    return start, end, errors


@bp.route("/questionnaires/satisfaction")
@requires("questionnaires.recovery")
def results():
    start, end, errors = _range(request.args)
    rules = satisfaction.settings()
    questionnaire = library.by_key(rules.questionnaire_key)
    found = satisfaction_report.report(questionnaire, start, end)
    return render_template("questionnaires/satisfaction.html", report=found, rules=rules, start=start, end=end,
                           errors=errors, form=request.args, open_cases=satisfaction.open_count()), \
        (400 if errors else 200)


def _settings_page(rules, form, errors, status=200):
    questionnaires = [q for q in library.all_questionnaires() if q.current_version]
    chosen = library.by_key(form.get("questionnaire_key", rules.questionnaire_key) or "")
    return render_template("questionnaires/satisfaction_settings.html", rules=rules, form=form, errors=errors,
                           questionnaires=questionnaires,
                           items=satisfaction.item_choices(chosen) if chosen else {},
                           max_delay=satisfaction.MAX_DELAY_HOURS), status


@bp.route("/questionnaires/satisfaction/settings", methods=["GET", "POST"])
@requires("questionnaires.manage")
def settings():
    rules = satisfaction.settings()
    if request.method == "GET":
        if library.sync_pack():
            db.session.commit()
        return _settings_page(rules, {}, {})
    form = request.form
    data = satisfaction.SettingsData(
        enabled=form.get("enabled") == "y", questionnaire_key=form.get("questionnaire_key", ""),
        after_exam=form.get("after_exam") == "y", after_followup=form.get("after_followup") == "y",
        delay_hours=form.get("delay_hours", ""), every_days=form.get("every_days", ""),
        low_item=form.get("low_item", ""), low_below=form.get("low_below", ""))
    try:
        satisfaction.save_settings(data, actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        return _settings_page(satisfaction.settings(), form, exc.errors, 400)
    db.session.commit()
    flash(_("The survey settings were saved."), "success")
    return redirect(url_for("satisfaction.results"))


@bp.route("/questionnaires/recovery")
@requires("questionnaires.recovery")
def cases():
    status = request.args.get("status", "")
    found = satisfaction.cases(status=status)
    patient_ids = {c.patient_id for c in found}
    people = patients.get_many(patient_ids) if patient_ids else {}
    return render_template("questionnaires/recovery_list.html", cases=found, people=people,
                           status=status if status in ("open", "closed") else "")


def _visit(recovery) -> dict:
    """What the case's survey asked about: the order or the follow-up task."""
    visit: dict = {}
    if recovery.order_id:
        order = booking.get_order(recovery.order_id)
        if order is not None:
            visit = {"kind": "order", "order": order}
    elif recovery.task_id:
        task = followups.get_task(recovery.task_id)
        if task is not None:
            visit = {"kind": "task", "task": task}
    return visit


def _case_page(recovery, errors, form, status=200):
    patient = patients.get(recovery.patient_id)
    visit = _visit(recovery)
    person_ids = {recovery.closed_by, visit["task"].assignee_id if visit.get("task") else None,
                  patient.responsible_doctor_id if patient else None} - {None}
    people = staff.get_many(person_ids) if person_ids else {}
    return render_template("questionnaires/recovery_case.html", case=recovery, patient=patient, visit=visit,
                           people=people, errors=errors, form=form), status


@bp.route("/questionnaires/recovery/<id:case_id>")
@requires("questionnaires.recovery")
def case(case_id: int):
    return _case_page(found_or_404(satisfaction.get_case(case_id)), {}, {})


@bp.route("/questionnaires/recovery/<id:case_id>/close", methods=["POST"])
@requires("questionnaires.recovery")
def close(case_id: int):
    recovery = found_or_404(satisfaction.get_case(case_id))
    try:
        satisfaction.close(recovery, request.form.get("resolution", ""), actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        return _case_page(found_or_404(satisfaction.get_case(case_id)), exc.errors, request.form, 400)
    db.session.commit()
    flash(_("The case is closed."), "success")
    return redirect(url_for("satisfaction.cases"))


@bp.route("/questionnaires/<id:questionnaire_id>/export.xlsx")
@requires("questionnaires.view")
def export_xlsx(questionnaire_id: int):
    questionnaire = found_or_404(library.get(questionnaire_id))
    allowed = export.may_include_identifiers(current_user)
    identifiers = allowed and request.args.get("identifiers", "1" if allowed else "0") != "0"
    body, count = export.workbook_file(questionnaire, identifiers=identifiers, locale=str(get_locale()))
    try:
        audit.record("questionnaire_exported", questionnaire=questionnaire.key, rows=count, identifiers=identifiers)
        db.session.commit()
    except BaseException:
        body.close()
        raise
    # the file is streamed from disk and closed (so deleted) when the response ends
    response = send_file(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         as_attachment=True, download_name=f"{questionnaire.key}-{clock.today().isoformat()}.xlsx",
                         conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
