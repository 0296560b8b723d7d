"""The clinic admin's advice library: the items, editing one (every save a
new version), a new item, and adding the pack's items the clinic lacks."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.interventions import advice_conditions, advice_library, advice_personal, advice_reading
from app.interventions.advice_forms import ItemForm
from app.tagging import services as tagging
from tenants.db import db

bp = Blueprint("advice_library", __name__, url_prefix="/advice/library")


@bp.route("")
@requires("advice.library")
def index():
    return render_template("interventions/advice_library.html", rows=advice_library.current_items(),
                           conditions_words=advice_reading.conditions_words)


@bp.route("/install", methods=["POST"])
@requires("advice.library")
def install():
    added = advice_library.install_pack()
    db.session.commit()
    flash(_("%(n)d items of the default library added.", n=added) if added
          else _("The library has every default item already."))
    return redirect(url_for("advice_library.index"))


def _messages() -> dict:
    return {"unknown_tags": _("No tag of this clinic is called: %(names)s."),
            "age": _("An age in whole years, 0 to 120."), "age_order": _("The upper age is below the lower."),
            "sex": _("Choose a sex.")}


def _known_choices() -> set[str]:
    return {value for _heading, options in advice_reading.form_choices() for value, _label in options}


def _known_tags() -> set[str]:
    return {n for t in tagging.all_tags() for n in (t.name, t.name_en) if n}


def _edit(item):
    form = ItemForm()
    version = advice_library.version_of(item) if item is not None else None
    if request.method == "GET" and version is not None:
        for name in ("category", "title_zh", "title_en", "body_zh", "body_en", "source"):
            getattr(form, name).data = getattr(version, name)
        form.tags.data, ticked = advice_conditions.choices_of(version.conditions)
        form.age_min.data = str(version.conditions.get("age_min", "") or "")
        form.age_max.data = str(version.conditions.get("age_max", "") or "")
        form.sex.data = version.conditions.get("sex", "")
        form.active.data = item.active
    else:
        ticked = request.form.getlist("chosen")
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            conditions = advice_conditions.parse(
                tags=form.tags.data or "", chosen=ticked, age_min=form.age_min.data or "",
                age_max=form.age_max.data or "", sex=form.sex.data or "", known_tags=_known_tags(),
                known_choices=_known_choices(), messages=_messages())
            data = advice_library.ItemData(
                category=form.category.data or "", title_zh=form.title_zh.data or "", title_en=form.title_en.data or "",
                body_zh=form.body_zh.data or "", body_en=form.body_en.data or "", source=form.source.data or "",
                conditions=conditions)
            saved = advice_library.save(item, data, active=bool(form.active.data), actor_id=current_user.id)
            db.session.commit()
            flash(_("Saved as version %(n)d.", n=saved.current_version))
            return redirect(url_for("advice_library.edit", advice_item_id=saved.id))
        except FieldErrors as exc:
            db.session.rollback()
            problems = exc.show_on(form)
    status = 422 if request.method == "POST" else 200
    return render_template("interventions/advice_item.html", form=form, item=item, problems=problems,
                           ticked=set(ticked), groups=advice_reading.form_choices(),
                           versions=advice_library.versions(item) if item is not None else [],
                           placeholders=" ".join(f"{{{n}}}" for n in advice_personal.PLACEHOLDERS)), status


@bp.route("/new", methods=["GET", "POST"])
@requires("advice.library")
def new():
    return _edit(None)


@bp.route("/<id:advice_item_id>", methods=["GET", "POST"])
@requires("advice.library")
def edit(advice_item_id: int):
    return _edit(found_or_404(advice_library.get(advice_item_id)))
