"""Clinic admins: exam packages and capacity rules."""
import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.booking import availability, labels, services
from app.booking.forms import ClosedDayForm, OverrideForm, PackageForm, SettingsForm, SlotForm
from app.booking.models import ClosedDay, SlotOverride, SlotTemplate
from app.core import audit
from app.core.access import requires
from app.core.i18n import select_locale
from app.core.validators import required
from app.records import services as records
from tenants.db import db

bp = Blueprint("booking_admin", __name__, url_prefix="/booking/admin")


def _posted_items() -> list[dict]:
    """The item rows as posted: each row's key, name and indicator codes; a row ticked "remove" is left out."""
    removed = set(request.form.getlist("item_remove"))
    rows = zip(request.form.getlist("item_key"), request.form.getlist("item_name"),
               request.form.getlist("item_codes"))
    return [{"key": f"o{i}" if key == "other" else key, "name": name,  # the blank row for a free item stays blank
             "codes": [c for c in codes.split(",") if c.strip()]}
            for i, (key, name, codes) in enumerate(list(rows)[:services.MAX_ITEMS + 1]) if key not in removed]


def _package_data(form: PackageForm, items: list[dict]) -> services.PackageData:
    return services.PackageData(
        name=form.name.data or "", price=form.price.data or "", items=items,
        category=form.category.data, description=form.description.data or "", sex=form.sex.data or "",
        age_min=form.age_min.data, age_max=form.age_max.data, fasting=form.fasting.data,
        no_alcohol=form.no_alcohol.data, preparation=form.preparation.data or "", daily_limit=form.daily_limit.data)


def _show_errors(form, errors: dict) -> str:
    """Put each message beside its field; -> the one about the exam items (their rows are no form field)."""
    for name, message in errors.items():
        if name != "items":
            getattr(form, name).errors = list(getattr(form, name).errors) + [message]
    return errors.get("items", "")


@bp.route("/packages")
@requires("booking.manage")
def packages():
    return render_template("booking/packages.html", packages=services.list_packages(active_only=False))


@bp.route("/packages/new", methods=["GET", "POST"])
@requires("booking.manage")
def package_new():
    return _edit(None)


@bp.route("/packages/<id:package_id>/edit", methods=["GET", "POST"])
@requires("booking.manage")
def package_edit(package_id: int):
    package = services.get_package(package_id)
    if package is None:
        abort(404)
    return _edit(package)


def _edit(package):
    form = PackageForm(obj=package)
    items_error = ""
    if form.is_submitted():
        items = _posted_items()
    else:
        items = [dict(item, key=f"r{i}") for i, item in enumerate(package.items if package else [])]
    if package is not None and not form.is_submitted():
        form.price.data = f"{package.price_fen / 100:.2f}"
    if form.validate_on_submit():
        try:
            saved = services.save_package(_package_data(form, items), package)
        except services.BookingError as exc:
            db.session.rollback()
            items_error = _show_errors(form, exc.errors)
        else:
            audit.record("package_saved", package_id=saved.id, name=saved.name)
            db.session.commit()
            flash(_("Package “%(name)s” saved.", name=saved.name))
            return redirect(url_for("booking_admin.packages"))
    elif form.is_submitted():  # the other fields' errors show; the items are checked at the same time
        try:
            services.check_package_items(items)
        except services.BookingError as exc:
            items_error = exc.errors.get("items", "")
    failed = bool(form.errors or items_error)
    return render_template("booking/package_edit.html", form=form, package=package, items=items,
                           items_error=items_error, indicators=_indicators_of(items)), (400 if failed else 200)


def _indicators_of(items: list[dict]) -> dict:
    """{code: indicator} for the codes of these items, to show each code with its name."""
    found = {}
    for code in {c for item in items for c in item.get("codes", [])}:
        indicator = records.indicator_by_code(code) if len(code) <= 40 else None
        if indicator is not None:
            found[code] = indicator
    return found


@bp.route("/indicator-search")
@requires("booking.manage")
def indicator_search():
    """Catalogue entries matching the package page's item search (an htmx fragment)."""
    query = (request.args.get("item_q") or "").strip()[:40]
    return render_template("booking/_indicator_matches.html", query=query,
                           matches=records.search_indicators(query))


@bp.route("/package-item")
@requires("booking.manage")
def package_item():
    """One new item row for the indicator chosen in the search (an htmx fragment)."""
    indicator = records.indicator_by_code((request.args.get("code") or "")[:40])
    if indicator is None:
        abort(404)
    name = indicator.name_zh if select_locale() == "zh_CN" else indicator.name_en
    item = {"key": "n" + secrets.token_hex(4), "name": name, "codes": [indicator.code]}
    return render_template("booking/_item_row.html", item=item, indicators={indicator.code: indicator})


@bp.route("/packages/<id:package_id>/active", methods=["POST"])
@requires("booking.manage")
def package_active(package_id: int):
    package = services.get_package(package_id)
    if package is None:
        abort(404)
    services.set_active(package, not package.active)
    audit.record("package_saved", package_id=package.id, name=package.name, active=package.active)
    db.session.commit()
    flash(_("“%(name)s” is offered again.", name=package.name) if package.active
          else _("“%(name)s” is no longer offered; its bookings stay.", name=package.name))
    return redirect(url_for("booking_admin.packages"))


# ---------------------------------------------------------------- capacity

def _slot_form() -> SlotForm:
    form = SlotForm(prefix="slot")
    form.weekday.choices = [(i, str(name)) for i, name in enumerate(labels.WEEKDAY)]
    return form


def _capacity_page(settings_form=None, slot_form=None, override_form=None, closed_form=None, status=200):
    rules = services.settings()
    if settings_form is None:
        settings_form = SettingsForm(prefix="rules", obj=rules)
    today = availability.window(rules)[0]
    return render_template("booking/capacity.html", settings_form=settings_form,
                           slot_form=slot_form or _slot_form(),
                           override_form=override_form or OverrideForm(prefix="day"),
                           closed_form=closed_form or ClosedDayForm(prefix="closed"),
                           rules=services.capacity_rules(today)), status


def _changed(what: str, **detail):
    texts: dict[str, Any] = {k: str(v) for k, v in detail.items()}
    audit.record("booking_rules_changed", change=what, **texts)
    db.session.commit()
    flash(_("Saved."))
    return redirect(url_for("booking_admin.capacity"))


def _save(form, slot: str, change, what: str, detail=lambda: {}):
    """Validate ``form``, run ``change``; saved: audit and back to the page; refused: the page again
    with the form (its ``slot`` in the template) showing each error next to its field."""
    if form.validate():
        try:
            change()
        except services.BookingError as exc:
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            return _changed(what, **detail())
    return _capacity_page(**{slot: form}, status=400)


@bp.route("/capacity", methods=["GET", "POST"])
@requires("booking.manage")
def capacity():
    form = SettingsForm(prefix="rules")
    if not form.is_submitted():
        return _capacity_page()
    return _save(form, "settings_form", lambda: services.update_settings(
        horizon_days=required(form.horizon_days), cutoff_days=required(form.cutoff_days),
        cutoff_time=required(form.cutoff_time), cancel_cutoff_days=required(form.cancel_cutoff_days),
        cancel_cutoff_time=required(form.cancel_cutoff_time), daily_capacity=form.daily_capacity.data), "settings")


@bp.route("/capacity/slots", methods=["POST"])
@requires("booking.manage")
def slot_add():
    form = _slot_form()
    return _save(form, "slot_form", lambda: services.add_slot(form.weekday.data, required(form.start),
                                                              required(form.end), required(form.capacity)),
                 "slot_added", lambda: {"weekday": form.weekday.data, "start": form.start.data})


@bp.route("/capacity/overrides", methods=["POST"])
@requires("booking.manage")
def override_add():
    form = OverrideForm(prefix="day")
    return _save(form, "override_form", lambda: services.add_override(required(form.day), required(form.start),
                                                                      required(form.end), required(form.capacity)),
                 "override_added", lambda: {"day": form.day.data, "start": form.start.data})


@bp.route("/capacity/closed", methods=["POST"])
@requires("booking.manage")
def closed_add():
    form = ClosedDayForm(prefix="closed")
    return _save(form, "closed_form", lambda: services.add_closed_day(required(form.day), form.reason.data),
                 "closed_added", lambda: {"day": form.day.data})


def _remove(model, row_id: int, what: str):
    if not services.remove(model, row_id):
        abort(404)
    return _changed(what, id=row_id)


@bp.route("/capacity/slots/<id:slot_id>/delete", methods=["POST"])
@requires("booking.manage")
def slot_delete(slot_id: int):
    return _remove(SlotTemplate, slot_id, "slot_removed")


@bp.route("/capacity/overrides/<id:override_id>/delete", methods=["POST"])
@requires("booking.manage")
def override_delete(override_id: int):
    return _remove(SlotOverride, override_id, "override_removed")


@bp.route("/capacity/closed/<id:closed_id>/delete", methods=["POST"])
@requires("booking.manage")
def closed_delete(closed_id: int):
    return _remove(ClosedDay, closed_id, "closed_removed")
