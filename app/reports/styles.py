"""Report templates and each clinic's style: the pack's templates (a general check-up, a chronic-disease
review, a plan's stage report) say which sections print in which order; a clinic may change that per
template and choose its colour. The logo and name are the clinic profile's."""
import re

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import FieldErrors
from app.reports import sentences
from app.reports.models import ReportStyle
from tenants import packs
from tenants.context import require_tenant_id
from tenants.db import db
from tenants.models import utcnow

DEFAULT_TEMPLATE = "general_checkup"
DEFAULT_COLOUR = "#1b7a6e"
SECTIONS = {"summary": _l("The doctor's summary"), "findings": _l("Summary of findings"),
            "abnormal": _l("Abnormal results and what they mean"), "results": _l("All results by group"),
            "trends": _l("Trends over the years"), "risks": _l("Risk assessments"),
            "advice": _l("Advice and plan"), "signature": _l("Doctor's signature")}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def templates() -> dict[str, dict]:
    return packs.load("report_templates")


def template_name(key: str) -> str:
    names = templates().get(key, {}).get("name", {})
    return names.get("zh" if str(get_locale() or "zh").startswith("zh") else "en", key)


def style() -> ReportStyle | None:
    return db.session.get(ReportStyle, require_tenant_id())


def colour() -> str:
    row = style()
    return row.colour if row is not None else DEFAULT_COLOUR


def sentence_words() -> dict:
    """The clinic's own words for the stage summary's sentences: {locale: {key: words}}."""
    row = style()
    return dict(row.sentences or {}) if row is not None else {}


def save_sentences(typed: dict[str, dict[str, str]]) -> ReportStyle:
    kept = sentences.checked(typed)
    row = style()
    if row is None:
        row = ReportStyle(tenant_id=require_tenant_id(), colour=DEFAULT_COLOUR, sections={})
        db.session.add(row)
    row.sentences, row.updated_at = kept, utcnow()
    audit.record("report_style_saved", sentences=sum(len(v) for v in kept.values()))
    return row


def order(template_key: str) -> list[str]:
    """The sections the clinic prints for the template, in order (the pack's unless the clinic chose)."""
    pack = templates().get(template_key) or templates()[DEFAULT_TEMPLATE]
    row = style()
    chosen = (row.sections or {}).get(template_key) if row is not None else None
    return [key for key in (chosen or pack["sections"]) if key in SECTIONS]


def save(colour_text: str, chosen: dict[str, list[tuple[str, str]]]) -> ReportStyle:
    """``chosen``: template key -> [(section key, the position typed, "" for left out)]. FieldErrors name the
    field: the colour, or a template's positions (whole numbers, each once, the signature kept)."""
    errors = {}
    colour_text = (colour_text or "").strip()
    if not _COLOUR.match(colour_text):
        errors["colour"] = _("Choose a colour as #RRGGBB.")
    sections = {}
    for key in templates():
        typed = [(section, text.strip()) for section, text in chosen.get(key, []) if section in SECTIONS]
        kept = [(section, text) for section, text in typed if text]
        if any(not text.isdigit() or not 1 <= int(text) <= len(SECTIONS) for _s, text in kept):
            errors[f"order-{key}"] = _("Number the sections you print from 1 to %(n)d.", n=len(SECTIONS))
            continue
        positions = [int(text) for _s, text in kept]
        if len(set(positions)) != len(positions):
            errors[f"order-{key}"] = _("Give each section its own number.")
        elif "signature" not in {section for section, _t in kept}:
            errors[f"order-{key}"] = _("Every report keeps the doctor's signature.")
        else:
            sections[key] = [section for section, _t in sorted(kept, key=lambda pair: int(pair[1]))]
    if errors:
        raise FieldErrors(errors)
    row = style()
    if row is None:
        row = ReportStyle(tenant_id=require_tenant_id())
        db.session.add(row)
    row.colour, row.sections, row.updated_at = colour_text.lower(), sections, utcnow()
    audit.record("report_style_saved", colour=row.colour)
    return row
