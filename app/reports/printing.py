"""Laying out a health report: its contents, its page header and footer, the PDF."""
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from app.core import clock
from app.core.pdf import Rendered, css_string, page_counter, render_document
from app.reports import content

COLOUR = "#1b7a6e"  # the clinic's colour until clinics choose their own


def render(patient, exam_date: date, locale: str, *, signer: str = "") -> Rendered:
    """The PDF of the patient's exam on ``exam_date`` in ``locale``; LookupError when that day has no results."""
    with force_locale(locale):
        report = content.build(patient, exam_date, locale)
        if not report.groups:
            raise LookupError(_("There are no results on %(date)s.", date=exam_date.isoformat()))
        return render_document(
            "reports/health_report_pdf.html", r=report, sex=content.sex_words(patient), signer=signer,
            printed_on=clock.today(), colour=COLOUR, sections=sections(report), head=css_header(patient),
            clinic_head=css_string(report.clinic.name), page_of=page_counter(_("Page {page} of {pages}")))


def sections(report) -> list[tuple[str, str]]:
    """(anchor, title) of the sections the report has, in order: its table of contents."""
    found = [("summary", _("The doctor's summary"))] if report.summary else []
    found.append(("findings", _("Summary of findings")))
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

