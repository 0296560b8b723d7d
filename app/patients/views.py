import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.booking import services as booking
from app.core import audit, clock, identity, jobs
from app.core.access import requires
from app.core.errors import found_or_404
from app.core.htmx import render, wants_partial
from app.core.validators import required
from app.followups import services as followups
from app.patients import labels, qr, services
from app.patients.forms import EditForm, EnrolForm, HistoryForm, LifestyleForm, PatientForm
from app.records import services as records
from app.tagging import services as tagging
from tenants.db import db

bp = Blueprint("patients", __name__, url_prefix="/patients")


def _form_data(form: PatientForm) -> services.PatientData:
    return services.PatientData(
        name=form.name.data or "", sex=form.sex.data or "", birth_date=form.birth_date.data,
        mobile=form.mobile.data or "", id_number=form.id_number.data or "", email=form.email.data or "",
        address=form.address.data or "", emergency_name=form.emergency_name.data or "",
        emergency_phone=form.emergency_phone.data or "", source_channel=form.source_channel.data or "",
        responsible_doctor_id=form.responsible_doctor_id.data, health_manager_id=form.health_manager_id.data,
    )


def _assignment_choices(form: PatientForm, patient=None) -> PatientForm:
    """The clinic's active staff in fitting roles; a current assignee who has
    since left stays listed, marked, so unrelated edits still save."""
    for name, roles in (("responsible_doctor_id", services.DOCTOR_ROLES),
                        ("health_manager_id", services.MANAGER_ROLES)):
        people = services.assignable_staff(roles)
        choices = [("", _("Not assigned"))] + [(str(p.id), f"{p.name} ({staff.labels.ROLE[p.role]})") for p in people]
        current = getattr(patient, name, None) if patient is not None else None
        if current and all(p.id != current for p in people):
            former = staff.get_staff(current)
            choices.append((str(current), _("%(name)s (no longer active)", name=former.name if former else current)))
        getattr(form, name).choices = choices
    return form


def _attach_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name)
        if message not in (field.errors or []):
            field.errors = list(field.errors or []) + [message]


def _fill_from_id_number(form: PatientForm) -> None:
    """A valid ID number fills the birth date and sex left empty (the browser does so as one types;
    this is the same without script). A value given is kept, and checked against the number."""
    if request.method != "POST":
        return
    try:
        resident = identity.parse_resident_id(form.id_number.data or "")
    except identity.InvalidId:
        return
    if form.birth_date.data is None and not "".join(form.birth_date.raw_data or []).strip():
        form.birth_date.data, form.birth_date.raw_data = resident.birth_date, [resident.birth_date.isoformat()]
        form.birth_date.process_errors = []  # "not a valid date": the empty value that is filled now
    if not form.sex.data:
        form.sex.data, form.sex.raw_data = resident.sex, [resident.sex]


def _validate_all(form: PatientForm, patient=None) -> bool:
    """Run the form's checks and the service's together, so every problem
    shows at once rather than one round at a time."""
    _fill_from_id_number(form)
    valid = form.validate_on_submit()
    if request.method == "POST" and not valid:
        try:
            if patient is None:
                services.validate(_form_data(form))
            else:
                services.validate_edit(patient, _form_data(form), remove_id_number=_removing_id(form))
        except services.PatientError as exc:
            _attach_errors(form, {k: v for k, v in exc.errors.items() if not getattr(form, k).errors})
    return valid


def _page_arg() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdecimal() and 0 < len(value) < 7 else 1


@bp.route("")
@requires("patients.view")
def index():
    archived = request.args.get("archived") == "1" and current_user.can("patients.archive")
    query = request.args.get("q", "")[:100]
    if request.args.get("open") == "1" and not wants_partial() and services.is_card_number(query):
        # Enter on the whole form (a card scanner types the number and Enter): that card opens directly
        scanned = services.find_by_card_no(query)
        if scanned is not None:
            return redirect(url_for("patients.detail", patient_id=scanned.id))
    tags = tagging.all_tags()
    known = {t.id for t in tags}
    wanted = [int(v) for v in request.args.getlist("tag")[:10] if v.isdecimal() and len(v) < 20 and int(v) in known]
    result = services.search(query, page=_page_arg(),
                             page_size=current_app.config["PAGE_SIZE"], archived=archived,
                             also=[functools.partial(tagging.having_tag, tag_id=tag_id) for tag_id in wanted])
    masked = {p.id: services.masked_mobile(p) for p in result.patients}
    return render("patients/index.html", "patients/_results.html", result=result, masked=masked,
                  tags=tags, chosen_tags=wanted,
                  row_tags=tagging.tags_of_patients([p.id for p in result.patients]))


@bp.route("/new", methods=["GET", "POST"])
@requires("patients.enrol")
def enrol():
    form = _assignment_choices(EnrolForm())
    if _validate_all(form):
        try:
            patient = services.enrol(_form_data(form), consent_version=current_app.config["CONSENT_VERSION"],
                                     actor_id=current_user.id)
        except services.PatientError as exc:
            db.session.rollback()
            _attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("Card %(card)s opened for %(name)s.", card=patient.card_no, name=patient.name))
            return redirect(url_for("patients.detail", patient_id=patient.id))
    status = 400 if form.errors else 200
    return render_template("patients/enrol.html", form=form,
                           consent_version=current_app.config["CONSENT_VERSION"]), status


@bp.route("/<id:patient_id>")
@requires("patients.view")
def detail(patient_id: int):
    patient = found_or_404(services.get(patient_id))
    audit.record_opened(patient.id)
    db.session.commit()
    return render_template("patients/detail.html", **_detail_context(patient))


def _detail_context(patient, **given) -> dict:
    """Everything the patient page shows; ``given`` (a form with its errors) replaces its part."""
    assignees = {name: staff.get_staff(getattr(patient, name)) if getattr(patient, name) else None
                 for name in ("responsible_doctor_id", "health_manager_id")}
    context = dict(patient=patient, assignees=assignees,
                   patient_tags=tagging.patient_tags(patient.id),
                   tag_names=[t.name for t in tagging.all_tags()],
                   history=(history := services.history(patient)), allergies=services.allergies(history),
                   history_form=HistoryForm(formdata=None),
                   lifestyle_form=LifestyleForm(formdata=None, obj=patient),
                   masked_mobile=services.masked_mobile(patient),
                   card_qr=qr.card_svg(patient.card_no, _("QR code of card %(card)s", card=patient.card_no)),
                   card_jobs=jobs.recent_runs("member_card", patient_id=patient.id),
                   glance=_glance(patient))
    context.update(given)
    return context


def _glance(patient) -> dict:
    """The header's facts from other capabilities: last visit, next booking and follow-up, critical alerts."""
    last_visit, next_booking = booking.orders.last_and_next(patient.id, clock.today())
    critical = (records.alerts.open_critical_of(patient.id)
                if current_user.can("alerts.view") else [])
    return {"last_visit": last_visit, "next_booking": next_booking,
            "next_followup": followups.next_due([patient.id]).get(patient.id), "critical": critical}


def _page_or_partial(partial: str, patient, **given):
    """An htmx request gets the section; a plain form post (no script) the whole page around it."""
    if wants_partial():
        return render_template(partial, patient=patient, labels=labels, **given)
    return render_template("patients/detail.html", **_detail_context(patient, **given))


@bp.route("/<id:patient_id>/identifiers")
@requires("patients.view_mobile")
def identifiers(patient_id: int):
    patient = found_or_404(services.get(patient_id))
    mobile, id_number = services.identifiers(patient)
    show_id = current_user.can("patients.view_id_number")
    audit.record("identifiers_viewed", patient_id=patient.id,
                 fields=["mobile", "id_number"] if show_id else ["mobile"])
    db.session.commit()
    return render_template("patients/_identifiers.html", patient=patient, mobile=mobile,
                           id_number=id_number if show_id else identity.mask_id(id_number), revealed=True,
                           id_masked=not show_id)


def _removing_id(form: PatientForm) -> bool:
    return bool(getattr(form, "remove_id_number", None) and form.remove_id_number.data)


@bp.route("/<id:patient_id>/edit", methods=["GET", "POST"])
@requires("patients.edit")
def edit(patient_id: int):
    """The mobile and ID numbers show masked; the full values only through
    the detail page's audited reveal (offered here too, by permission)."""
    patient = found_or_404(services.get(patient_id))
    form = _assignment_choices(EditForm() if request.method == "POST" else EditForm(obj=patient), patient)
    if request.method == "POST" and _validate_all(form, patient):
        try:
            services.edit(patient, _form_data(form), remove_id_number=_removing_id(form))
        except services.PatientError as exc:
            db.session.rollback()
            _attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("Changes saved."))
            return redirect(url_for("patients.detail", patient_id=patient.id))
    status = 400 if form.errors else 200
    return render_template("patients/edit.html", form=form, patient=patient,
                           masked_mobile=services.masked_mobile(patient),
                   card_qr=qr.card_svg(patient.card_no, _("QR code of card %(card)s", card=patient.card_no)),
                           masked_id_number=services.masked_id_number(patient)), status


@bp.route("/<id:patient_id>/lifestyle", methods=["POST"])
@requires("patients.lifestyle")
def lifestyle(patient_id: int):
    patient = found_or_404(services.get(patient_id))
    form = LifestyleForm()
    if form.validate_on_submit():
        services.set_lifestyle(patient, smoking=form.smoking.data, alcohol=form.alcohol.data,
                               exercise=form.exercise.data)
        db.session.commit()
        saved = True
    else:
        saved = False
    return _page_or_partial("patients/_lifestyle.html", patient, lifestyle_form=form,
                            saved=saved), (200 if saved else 400)


def _render_history(patient, form, status=200):
    history = services.history(patient)  # the allergy banner at the top follows (out of band for htmx)
    return _page_or_partial("patients/_history.html", patient, history=history, history_form=form,
                            allergies=services.allergies(history), allergy_oob=wants_partial()), status


@bp.route("/<id:patient_id>/history", methods=["POST"])
@requires("patients.history")
def add_history(patient_id: int):
    patient = found_or_404(services.get(patient_id))
    form = HistoryForm()
    if form.validate_on_submit():
        try:
            services.add_history(patient, kind=form.kind.data, description=required(form.description),
                                 since_year=form.since_year.data, note=form.note.data,
                                 actor_id=current_user.id)
        except services.PatientError as exc:
            db.session.rollback()
            _attach_errors(form, exc.errors)
        else:
            db.session.commit()
            return _render_history(patient, HistoryForm(formdata=None))
    return _render_history(patient, form, 400)


@bp.route("/<id:patient_id>/history/<id:item_id>/delete", methods=["POST"])
@requires("patients.history")
def remove_history(patient_id: int, item_id: int):
    patient = found_or_404(services.get(patient_id))
    if not services.remove_history(patient, item_id):
        abort(404)
    db.session.commit()
    return _render_history(patient, HistoryForm(formdata=None))


@bp.route("/<id:patient_id>/archive", methods=["POST"])
@requires("patients.archive")
def archive(patient_id: int):
    patient = found_or_404(services.get(patient_id))
    services.archive(patient)
    db.session.commit()
    flash(_("%(name)s was archived: the card leaves the lists and keeps its data.", name=patient.name))
    return redirect(url_for("patients.detail", patient_id=patient.id))


@bp.route("/<id:patient_id>/restore", methods=["POST"])
@requires("patients.archive")
def restore(patient_id: int):
    patient = found_or_404(services.get(patient_id))
    services.restore(patient)
    db.session.commit()
    flash(_("%(name)s was restored.", name=patient.name))
    return redirect(url_for("patients.detail", patient_id=patient.id))


@bp.route("/<id:patient_id>/card", methods=["POST"])
@requires("cards.print")
def print_card(patient_id: int):
    patient = found_or_404(services.get(patient_id))
    run = jobs.start("member_card", "app.patients.jobs.render_member_card",
                     patient_id=patient.id, requested_by=current_user.id, locale=str(get_locale()))
    return render_template("core/_job_status.html", run=run), 202


# ------------------------------------------- self-registered cards: check and merge

@bp.route("/<id:patient_id>/identity-verified", methods=["POST"])
@requires("patients.edit")
def identity_verified(patient_id: int):
    """The front desk has seen the self-registered patient's ID card (at check-in)."""
    patient = found_or_404(services.get(patient_id))
    if services.verify_identity(patient):
        db.session.commit()
        flash(_("Identity checked: %(name)s's card is no longer marked self-registered.", name=patient.name))
    return redirect(url_for("patients.detail", patient_id=patient.id))


@bp.route("/<id:patient_id>/merge")
@requires("patients.merge")
def merge_pick(patient_id: int):
    """Choose the existing card that a self-registered card belongs to."""
    source = found_or_404(services.get(patient_id))
    query = (request.args.get("q") or "").strip()[:50]
    if query:
        found = [p for p in services.search(query).patients if p.id != source.id and p.merged_into_id is None]
    else:
        found = services.merge_candidates(source)
    return render_template("patients/merge.html", source=source, found=found, query=query)


def _merge_page(source, target, *, error: str = "", status: int = 200):
    return render_template("patients/merge_confirm.html", source=source, target=target, error=error,
                           source_mobile=services.masked_mobile(source),
                           target_mobile=services.masked_mobile(target),
                           same_mobile=source.mobile_index == target.mobile_index), status


@bp.route("/<id:patient_id>/merge/<id:target_id>", methods=["GET", "POST"])
@requires("patients.merge")
def merge_confirm(patient_id: int, target_id: int):
    """What a merge moves, and a confirmation; the post merges."""
    source = found_or_404(services.get(patient_id))
    target = found_or_404(services.get(target_id))
    if request.method == "GET":
        try:
            services.merge_check(source, target)
        except services.MergeRefused as exc:
            return _merge_page(source, target, error=exc.message, status=409)
        return _merge_page(source, target)
    if request.form.get("confirm") != "1":
        return _merge_page(source, target)
    try:
        services.merge(source, target, actor_id=current_user.id)
    except services.MergeRefused as exc:
        db.session.rollback()
        return _merge_page(services.get(patient_id), services.get(target_id), error=exc.message, status=409)
    db.session.commit()
    flash(_("Card %(source)s was merged into %(target)s; its records are on this card now.",
            source=source.card_no, target=target.card_no))
    return redirect(url_for("patients.detail", patient_id=target.id))
