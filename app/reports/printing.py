"""The parts of a printed report that are not data: its contents and its page header."""
from flask_babel import gettext as _

from app.core.pdf import css_string


def sections(report) -> list[tuple[str, str]]:
    """(anchor, title) of the sections the report has, in order: its table of contents."""
    found = [("findings", _("Summary of findings"))]
    if report.abnormal:
        found.append(("abnormal", _("Abnormal results and what they mean")))
    found.append(("results", _("All results by group")))
    if report.charts:
        found.append(("trends", _("Trends over the years")))
    if report.risks:
        found.append(("risks", _("Risk assessments")))
    if report.advice or report.plans:
        found.append(("advice", _("Advice and plan")))
    found.append(("signature", _("Doctor's signature")))
    return found


def css_header(patient) -> str:
    return css_string(_("%(name)s · card no. %(card)s", name=patient.name, card=patient.card_no))

