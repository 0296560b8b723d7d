"""Clinic admins: the indicator catalogue, lab code mapping, API tokens (under settings)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth import services as staff
from app.core import audit
from app.core.access import requires
from app.core.validators import required
from app.records import api_tokens, catalogue, importer, labels, waiting
from app.records.forms import IndicatorForm, LabCodeForm, LimitsForm, TokenForm
from tenants.db import db

bp = Blueprint("records_admin", __name__, url_prefix="/records")
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/settings/api-tokens")


def _indicator_choices():
    return [(str(i.id), f"{labels.indicator_name(i)} ({i.code}, {i.unit or '—'})") for i in catalogue.all_indicators()]


@bp.route("/indicators", methods=["GET", "POST"])
@requires("records.catalogue")
def indicators():
    form = IndicatorForm()
    if form.validate_on_submit():
        try:
            catalogue.add_local(required(form.code), required(form.name_zh), form.name_en.data or "",
                                form.unit.data or "", form.group.data)
        except catalogue.CatalogueError as exc:
            db.session.rollback()
            form.code.errors = [*form.code.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Indicator added."))
            return redirect(url_for("records_admin.indicators"))
    return render_template("records/indicators.html", form=form, indicators=catalogue.all_indicators(False)), \
        (400 if form.errors else 200)


def _limits_form(indicator) -> LimitsForm:
    """The form filled with the indicator's values (on GET), with two empty rows for new ranges."""
    rows = list(indicator.ranges or [])
    form = LimitsForm()
    if not form.is_submitted():
        critical, plausible = indicator.critical or {}, indicator.plausible or {}
        form = LimitsForm(data={
            "ranges": [{"sex": r.get("sex", ""), "age_min": _text(r.get("age_min")), "age_max": _text(r.get("age_max")),
                        "low": _text(r.get("low")), "high": _text(r.get("high")),
                        "high_inclusive": bool(r.get("high_inclusive"))} for r in rows],
            "critical_low": _text(critical.get("low")), "critical_high": _text(critical.get("high")),
            "critical_low_inclusive": bool(critical.get("low_inclusive")),
            "critical_high_inclusive": bool(critical.get("high_inclusive")),
            "plausible_low": _text(plausible.get("low")), "plausible_high": _text(plausible.get("high"))})
    while len(form.ranges) < min(len(rows) + 2, form.ranges.max_entries or 20):
        form.ranges.append_entry()
    return form


def _text(value) -> str:
    return "" if value is None else str(value)


def _place_errors(form: LimitsForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        if name.startswith("ranges-"):
            _, index, field_name = name.split("-", 2)
            target = form.ranges[int(index)].form[field_name]
        else:
            target = form[name]
        target.errors = [*target.errors, message]


@bp.route("/indicators/<id:indicator_id>", methods=["GET", "POST"])
@requires("records.catalogue")
def indicator_limits(indicator_id: int):
    indicator = catalogue.get(indicator_id)
    if indicator is None:
        abort(404)
    form = _limits_form(indicator)
    status = 200
    if form.is_submitted():
        if not form.validate() or indicator.kind == "coded":
            status = 400
        else:
            data = catalogue.LimitsInput(
                ranges=[catalogue.RangeInput(sex=row.sex.data or "", age_min=row.age_min.data or "",
                                             age_max=row.age_max.data or "", low=row.low.data or "",
                                             high=row.high.data or "", high_inclusive=bool(row.high_inclusive.data))
                        for row in form.ranges],
                critical_low=form.critical_low.data or "", critical_high=form.critical_high.data or "",
                critical_low_inclusive=bool(form.critical_low_inclusive.data),
                critical_high_inclusive=bool(form.critical_high_inclusive.data),
                plausible_low=form.plausible_low.data or "", plausible_high=form.plausible_high.data or "",
                source=form.source.data or "")
            try:
                version = catalogue.save_limits(indicator, data, current_user.id)
            except catalogue.LimitErrors as exc:
                db.session.rollback()
                _place_errors(form, exc.errors)
                status = 400
            else:
                audit.record("indicator_limits_saved", code=indicator.code, version=version.version)
                db.session.commit()
                flash(_("Saved as version %(version)s.", version=version.version))
                return redirect(url_for("records_admin.indicator_limits", indicator_id=indicator.id))
    history = catalogue.versions(indicator.id)
    people = staff.get_many({v.created_by for v in history if v.created_by})
    return render_template("records/indicator_limits.html", indicator=indicator, form=form, history=history,
                           people=people), status


@bp.route("/lab-codes", methods=["GET", "POST"])
@requires("records.catalogue")
def lab_codes():
    form = LabCodeForm(data={key: request.args.get(key, "") for key in ("sender", "local_code", "unit")}
                       if request.method == "GET" else None)
    form.indicator_id.choices = _indicator_choices()
    if form.validate_on_submit():
        try:
            row = catalogue.map_lab_code(form.sender.data or "", required(form.local_code),
                                         int(form.indicator_id.data or 0), form.unit.data or "")
            summary = importer.release_waiting(row.sender, row.local_code, current_user.id)
        except (catalogue.CatalogueError, ValueError) as exc:
            db.session.rollback()
            form.indicator_id.errors = [*form.indicator_id.errors, str(exc)]
        else:
            audit.record("lab_code_mapped", sender=row.sender, code=row.local_code, stored=summary.results,
                         still_waiting=summary.waiting)
            db.session.commit()
            flash(_("Lab code mapped."))
            if summary.results or summary.waiting:
                flash(ngettext("%(num)d waiting result stored.", "%(num)d waiting results stored.", summary.results)
                      + " " + ngettext("%(num)d still waits.", "%(num)d still wait.", summary.waiting))
            return redirect(url_for("records_admin.lab_codes"))
    rows = catalogue.lab_codes()
    names = {i.id: i for i in catalogue.all_indicators(False)}
    return render_template("records/lab_codes.html", form=form, rows=rows, names=names,
                           waiting=waiting.groups(), reasons=labels.WAITING_REASONS), (400 if form.errors else 200)


@tokens_bp.route("", methods=["GET", "POST"])
@requires("api.manage")
def tokens():
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        _row, created = api_tokens.create(required(form.name), list(api_tokens.SCOPES), current_user.id)
        audit.record("api_token_created", name=form.name.data, prefix=_row.prefix)
        db.session.commit()
    return render_template("records/api_tokens.html", form=form, tokens=api_tokens.listing(), created=created)


@tokens_bp.route("/<id:token_id>/revoke", methods=["POST"])
@requires("api.manage")
def revoke(token_id: int):
    revoked = api_tokens.revoke(token_id)
    if revoked is None:
        abort(404)
    audit.record("api_token_revoked", token_id=token_id, name=revoked.name, prefix=revoked.prefix)
    db.session.commit()
    flash(_("Token revoked: it no longer works."))
    return redirect(url_for("api_tokens.tokens"))


# The tokens' former address under the catalogue, kept for bookmarks and pages open from before: a visit is
# sent on to settings, a form posted there is still served.
@bp.route("/api-tokens", methods=["GET", "POST"])
@requires("api.manage")
def old_tokens():
    if request.method == "GET":
        return redirect(url_for("api_tokens.tokens"))
    return tokens()


@bp.route("/api-tokens/<id:token_id>/revoke", methods=["POST"])
@requires("api.manage")
def old_revoke(token_id: int):
    return revoke(token_id)
