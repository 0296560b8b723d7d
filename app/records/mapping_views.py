"""Clinic admins: saved spreadsheet column mappings (from a sample file, confirmed by hand)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.core import audit
from app.core.access import requires
from app.records import catalogue, importer, mappings
from app.records.forms import SampleForm
from tenants.db import db

bp = Blueprint("record_mappings", __name__, url_prefix="/records/mappings")


def _edit(draft: mappings.Draft, status: int = 200):
    return render_template("records/mapping_edit.html", draft=draft, fields=mappings.COLUMN_FIELDS,
                           indicators=catalogue.all_indicators()), status


@bp.route("/", methods=["GET", "POST"])
@requires("records.catalogue")
def index():
    form = SampleForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importer.MAX_BYTES + 1)
        try:
            if len(data) > importer.MAX_BYTES:
                raise mappings.MappingError("file", _("The file is too large."))
            return _edit(mappings.draft_from_sample(data, upload.filename or ""))
        except mappings.MappingError as bad:
            form.file.errors.append(str(bad))
    return render_template("records/mappings.html", form=form, rows=mappings.all_mappings()), \
        (400 if form.errors else 200)


@bp.route("/<id:mapping_id>")
@requires("records.catalogue")
def edit(mapping_id: int):
    row = mappings.get(mapping_id) or abort(404)
    return _edit(mappings.draft_of(row))


@bp.route("/save", methods=["POST"])
@requires("records.catalogue")
def save():
    draft = mappings.draft_from_form(request.form)
    if draft.mapping_id and mappings.get(draft.mapping_id) is None:
        abort(404)
    try:
        row = mappings.save(draft)
    except mappings.MappingError:
        db.session.rollback()
        return _edit(draft, 400)
    audit.record("table_mapping_saved", name=row.name)
    db.session.commit()
    flash(_("Mapping “%(name)s” saved.", name=row.name))
    return redirect(url_for("record_mappings.index"))


@bp.route("/<id:mapping_id>/delete", methods=["POST"])
@requires("records.catalogue")
def delete(mapping_id: int):
    row = mappings.get(mapping_id) or abort(404)
    name = row.name
    mappings.delete(row)
    audit.record("table_mapping_deleted", name=name)
    db.session.commit()
    flash(_("Mapping “%(name)s” deleted.", name=name))
    return redirect(url_for("record_mappings.index"))
