"""Display names of the records vocabularies."""
from flask_babel import lazy_gettext as _l

GROUP = {"vitals": _l("Vital signs"), "body": _l("Body measurements"), "glucose": _l("Glucose"),
         "lipids": _l("Lipids"), "liver": _l("Liver function"), "kidney": _l("Kidney function"),
         "blood": _l("Blood count"), "thyroid": _l("Thyroid"), "other": _l("Other")}
# Words as well as colour: a flag must read without colour vision.
FLAG = {"H": _l("high"), "L": _l("low"), "HH": _l("critically high"), "LL": _l("critically low"),
        "A": _l("abnormal")}
CHANGE = {"new": _l("new"), "persisting": _l("persisting"), "resolved": _l("resolved")}
ALERT_KIND = {"critical": _l("Critical"), "abnormal": _l("Newly abnormal")}
