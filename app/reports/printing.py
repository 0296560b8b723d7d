"""Laying out a health report: its sections in the clinic's order for the template, its contents, its page
header and footer, the PDF; and the same for made-up sample data (the style page's preview)."""
from datetime import date, timedelta
from types import SimpleNamespace

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from app.clinic import services as clinic_profile
from app.core import clock
from app.core.pdf import Rendered, css_string, page_counter, render_document
from app.records import services as records
from app.reports import content, styles


def render(patient, exam_date: date, locale: str, *, signer: str = "",
           template_key: str = styles.DEFAULT_TEMPLATE) -> Rendered:
    """The PDF of the patient's exam on ``exam_date`` in ``locale``; LookupError when that day has no results."""
    with force_locale(locale):
        report = content.build(patient, exam_date, locale)
        if not report.groups:
            raise LookupError(_("There are no results on %(date)s.", date=exam_date.isoformat()))
        return _layout(report, content.sex_words(patient), signer, template_key)


def shown_sections(report, template_key: str) -> list[str]:
    """The template's sections in the clinic's order, less those the report has nothing for."""
    return [key for key in styles.order(template_key) if _has(report, key)]


def _layout(report, sex: str, signer: str, template_key: str) -> Rendered:
    shown = shown_sections(report, template_key)
    return render_document(
        "reports/health_report_pdf.html", r=report, sex=sex, signer=signer, printed_on=clock.today(),
        colour=styles.colour(), order=shown, sections=[(key, str(styles.SECTIONS[key])) for key in shown],
        head=css_header(report.patient), clinic_head=css_string(report.clinic.name),
        page_of=page_counter(_("Page {page} of {pages}")))


def _has(report, key: str) -> bool:
    """Whether the report has anything to print in the section (an empty one is left out, contents too)."""
    return {"summary": bool(report.summary), "abnormal": bool(report.abnormal), "trends": bool(report.charts),
            "risks": bool(report.risks), "advice": bool(report.advice or report.plans)}.get(key, True)


def css_header(patient) -> str:
    return css_string(_("%(name)s · card no. %(card)s", name=patient.name, card=patient.card_no))


def preview(template_key: str, locale: str) -> Rendered:
    """The template in the clinic's style, filled with made-up results of a made-up patient."""
    with force_locale(locale):
        return _layout(_sample(locale), _("Male"), _("Dr. Sample"), template_key)


def _sample(locale: str) -> content.Report:
    today = clock.today()
    glucose = content.ResultLine(_("Fasting glucose"), "7.40 mmol/L", "< 6.10 mmol/L", "H",
                                 records.flag_words("H"), _("Above the upper limit of the reference interval "
                                                            "(%(interval)s).", interval="< 6.10 mmol/L"),
                                 f"5.20 mmol/L ({(today - timedelta(days=365)).isoformat()})", "new")
    weight = content.ResultLine(_("Weight"), "68.5 kg", "", "", "")
    points = [records.charts.ChartPoint(today - timedelta(days=365 * n), value, value > 6.1, direction="H"
                                        if value > 6.1 else "") for n, value in ((2, 5.0), (1, 5.2), (0, 7.4))]
    chart = Markup(records.charts.trend_svg(sorted(points, key=lambda p: p.when), title=glucose.name,  # noqa: S704
                                            unit="mmol/L", ref_low=None, ref_high=6.1, locale=locale))
    summary = SimpleNamespace(period_start=today - timedelta(days=364), period_end=today, signed_at=clock.now(),
                              text=_("Sample text: the doctor's signed stage summary prints here."))
    return content.Report(
        patient=SimpleNamespace(name=_("Sample patient"), card_no="SAMPLE01", sex="M"),
        clinic=clinic_profile.contact(), logo=content.clinic_logo(), exam_date=today,
        previous_exam=today - timedelta(days=365), age=50, locale=locale,
        groups=[content.ResultGroup(_("Glucose"), [glucose]), content.ResultGroup(_("Body measurements"), [weight])],
        abnormal=[glucose], resolved=[], charts=[chart], risks=[], advice=None, plans=[], summary=summary,
        counts={"results": 2, "abnormal": 1, "new": 1, "persisting": 0, "resolved": 0})
