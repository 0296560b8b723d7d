"""Display names of the records vocabularies."""
from flask_babel import lazy_gettext as _l

GROUP = {"vitals": _l("Vital signs"), "body": _l("Body measurements"), "glucose": _l("Glucose"),
         "lipids": _l("Lipids"), "liver": _l("Liver function"), "kidney": _l("Kidney function"),
         "blood": _l("Blood count"), "thyroid": _l("Thyroid"), "other": _l("Other")}
# Words as well as colour: a flag must read without colour vision.
FLAG = {"H": _l("high"), "L": _l("low"), "HH": _l("critically high"), "LL": _l("critically low"),
        "A": _l("abnormal")}
CHANGE = {"new": _l("new"), "persisting": _l("persisting"), "resolved": _l("resolved"),
          "no_range": _l("no range")}  # no_range: a value after an abnormal one, with no interval to judge it by
ALERT_KIND = {"critical": _l("Critical"), "abnormal": _l("Newly abnormal")}
ALERT_STATUS = {"open": _l("Open"), "acknowledged": _l("Acknowledged")}
INFORMED = {"patient": _l("The patient"), "family": _l("A family member"), "doctor": _l("Another doctor"),
            "other": _l("Someone else")}
COLUMN = {"card_no": _l("Card number"), "name": _l("Name"), "id_number": _l("ID number"), "sex": _l("Sex"),
          "birth_date": _l("Date of birth"), "exam_date": _l("Exam date"), "item": _l("Test name"),
          "code": _l("Test code"), "value": _l("Result"), "unit": _l("Unit"), "range": _l("Reference range"),
          "flag": _l("Abnormal flag")}


def import_summary(summary) -> str:
    """One sentence on an import's outcome (an importer.ImportSummary)."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    return _("%(imported)s (%(results)s); %(duplicates)s; %(unmatched)s; %(errors)s.",
             imported=ngettext("Imported %(num)d report", "Imported %(num)d reports", summary.imported),
             results=ngettext("%(num)d result", "%(num)d results", summary.results),
             duplicates=ngettext("%(num)d duplicate skipped", "%(num)d duplicates skipped", summary.duplicates),
             unmatched=ngettext("%(num)d waiting for a patient", "%(num)d waiting for a patient", summary.unmatched),
             errors=ngettext("%(num)d error", "%(num)d errors", len(summary.errors)))
