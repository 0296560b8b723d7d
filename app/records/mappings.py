"""Saved spreadsheet column mappings, one per source (an exam centre's export).

Staff upload a sample file, confirm or correct the guessed mapping, and give it a
name; later imports of that source pick the mapping by name."""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from app.records import catalogue
from app.records.models import TableMapping
from app.records.parse_table import IDENTITY, LONG, ColumnMapping, read_headers, read_rows, suggest_mapping
from tenants.db import db
from tenants.ids import MAX_ID

COLUMN_FIELDS = IDENTITY + LONG


@dataclass
class Draft:
    """What the mapping form shows: the file's headers and the choices for them."""

    name: str
    headers: list[str]
    mapping: ColumnMapping
    errors: dict[str, str] = field(default_factory=dict)
    mapping_id: int | None = None


class MappingError(ValueError):
    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where


def all_mappings() -> list[TableMapping]:
    return list(db.session.scalars(select(TableMapping).order_by(TableMapping.name)))


def get(mapping_id: int) -> TableMapping | None:
    return db.session.scalar(select(TableMapping).where(TableMapping.id == mapping_id))


def draft_from_sample(data: bytes, filename: str) -> Draft:
    """The guessed mapping of a sample file; MappingError when the file has no header row to map."""
    try:
        read_rows(data, filename)
    except ValueError as bad:
        raise MappingError("file", str(bad)) from None
    headers = read_headers(data, filename)
    if not any(headers):
        raise MappingError("file", _("The file has no header row with column titles."))
    return Draft(filename.rsplit(".", 1)[0][:80], headers, suggest_mapping(headers))


def draft_of(row: TableMapping) -> Draft:
    stored = dict(row.mapping or {})
    return Draft(row.name, list(stored.get("headers") or []), ColumnMapping.from_dict(stored), mapping_id=row.id)


def draft_from_form(form) -> Draft:
    """Read the mapping form back (werkzeug MultiDict); columns must be among the sample's headers."""
    headers = [h for h in form.getlist("headers") if h]
    known = set(headers)
    mapping = ColumnMapping(layout=form.get("layout", "wide"))
    for name in COLUMN_FIELDS:
        value = form.get(f"col-{name}", "")
        setattr(mapping, name, value if value in known else "")
    for index, header in enumerate(headers):
        code = form.get(f"ind-{index}", "").strip()
        if code:
            mapping.indicators[header] = code
            if unit := form.get(f"unit-{index}", "").strip():
                mapping.units[header] = unit
    mapping_id = form.get("mapping_id", "")
    is_id = mapping_id.isascii() and mapping_id.isdigit() and len(mapping_id) <= 19 and int(mapping_id) <= MAX_ID
    return Draft(form.get("name", "").strip(), headers, mapping, mapping_id=int(mapping_id) if is_id else None)


def check(draft: Draft) -> dict[str, str]:
    """Problems keyed by the form field they belong to."""
    m, errors = draft.mapping, {}
    if not draft.name:
        errors["name"] = _("Give the mapping a name, for example the exam centre's.")
    elif len(draft.name) > 80:
        errors["name"] = _("The name is too long (80 characters at most).")
    else:
        clash = db.session.scalar(select(TableMapping.id).where(TableMapping.name == draft.name))
        if clash is not None and clash != draft.mapping_id:
            errors["name"] = _("Another mapping already has this name.")
    if m.layout not in ("wide", "long"):
        errors["layout"] = _("Choose one row per checkup or one row per result.")
    if not (m.card_no or m.id_number or m.name):
        errors["col-card_no"] = _("Choose the column with the card number, the ID number or the name.")
    if not m.exam_date:
        errors["col-exam_date"] = _("Choose the column with the exam date.")
    if m.layout == "long":
        if not (m.item or m.code):
            errors["col-item"] = _("Choose the column with the test name or code.")
        if not m.value:
            errors["col-value"] = _("Choose the column with the result.")
    elif m.layout == "wide":
        codes = {i.code for i in catalogue.all_indicators()}
        unknown = sorted({c for c in m.indicators.values() if c not in codes})
        if unknown:
            errors["indicators"] = _("Unknown indicator codes: %(codes)s.", codes=", ".join(unknown))
        elif not m.indicators:
            errors["indicators"] = _("Choose the indicator of at least one result column.")
    used = [getattr(m, n) for n in COLUMN_FIELDS if getattr(m, n)]
    twice = sorted({h for h in used if used.count(h) > 1})
    if twice:
        errors.setdefault("layout", _("A column is chosen for two fields: %(cols)s.", cols=", ".join(twice)))
    return errors


def save(draft: Draft) -> TableMapping:
    """Store the mapping (the caller commits); MappingError names the first bad field."""
    if errors := check(draft):
        draft.errors = errors
        where, message = next(iter(errors.items()))
        raise MappingError(where, message)
    if draft.mapping.layout == "long":
        draft.mapping.indicators, draft.mapping.units = {}, {}
    else:
        for name in LONG:
            setattr(draft.mapping, name, "")
    stored = dict(draft.mapping.to_dict(), headers=draft.headers)
    row = get(draft.mapping_id) if draft.mapping_id else None
    if row is None:
        row = TableMapping(name=draft.name, mapping=stored)
        db.session.add(row)
    else:
        row.name, row.mapping = draft.name, stored
    db.session.flush()
    return row


def delete(row: TableMapping) -> None:
    db.session.delete(row)
    db.session.flush()
