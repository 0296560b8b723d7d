"""The patient list as a spreadsheet (with the list's filters). Identifiers
are written in full only for roles that may see them, masked otherwise;
every export is audited with its filters and row count."""
import functools

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app.core import audit, clock, exports, identity
from app.core.access import requires
from app.patients import labels, services
from app.patients.views import bp
from app.tagging import services as tagging
from tenants.db import db

EXPORT_LIMIT = 500_000  # every card of the largest clinic we plan for, twice over


def identifier_policy() -> tuple[bool, bool]:
    """(full mobile, full ID number) for the signed-in person's role."""
    return current_user.can("patients.view_mobile"), current_user.can("patients.view_id_number")


def shown_identifiers(patient, full_mobile: bool, full_id: bool) -> tuple[str, str]:
    mobile, id_number = services.identifiers(patient)
    return (mobile if full_mobile else identity.mask_mobile(mobile),
            (id_number or "") if full_id else identity.mask_id(id_number))


def masked_fields(full_mobile: bool, full_id: bool) -> list[str]:
    return [name for name, full in (("mobile", full_mobile), ("id_number", full_id)) if not full]


@bp.route("/export")
@requires("patients.view")
def export():
    fmt = exports.choose_format(request.args.get("format"))
    if fmt is None:
        abort(400)
    archived = request.args.get("archived") == "1" and current_user.can("patients.archive")
    tags = {t.id: t for t in tagging.all_tags()}
    wanted = [int(v) for v in request.args.getlist("tag")[:10] if v.isdecimal() and len(v) < 20 and int(v) in tags]
    query = request.args.get("q", "")[:100]
    found = services.search(query, page_size=EXPORT_LIMIT, archived=archived,
                            also=[functools.partial(tagging.having_tag, tag_id=tag_id) for tag_id in wanted])
    full_mobile, full_id = identifier_policy()
    audit.record("list_exported", list="patients", format=fmt, rows=len(found.patients),
                 filters={"q": query, "tags": [tags[t].name for t in wanted], "archived": archived},
                 masked=masked_fields(full_mobile, full_id))
    patients = found.patients

    def rows():
        for start in range(0, len(patients), 1000):
            batch = patients[start:start + 1000]
            carried = tagging.tags_of_patients([p.id for p in batch])
            for p in batch:
                mobile, id_number = shown_identifiers(p, full_mobile, full_id)
                yield (p.card_no, p.name, str(labels.SEX.get(p.sex, p.sex)), p.birth_date, mobile, id_number,
                       "、".join(t.name for t in carried.get(p.id, [])), clock.local_date(p.created_at))

    table = exports.Table(_("Patients"), [_("Card number"), _("Name"), _("Sex"), _("Birth date"), _("Mobile"),
                                          _("ID number"), _("Tags"), _("Card opened")], list(rows()))
    db.session.commit()  # the rows are read first: committing expires what they were read from
    return exports.response(fmt, table, "patients")
