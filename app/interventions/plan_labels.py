"""What the plan pages call things, in the page's language."""
from flask_babel import lazy_gettext as _l

KIND = {"intervention": _l("Intervention plan"), "conditioning": _l("TCM conditioning plan")}
STATUS = {"active": _l("Active"), "closed": _l("Closed")}
OUTCOME = {"met": _l("Goals met"), "partly": _l("Goals partly met"), "not_met": _l("Goals not met")}
ACTION = {"diet": _l("Diet"), "exercise": _l("Exercise"), "medication": _l("Medication"),
          "monitoring": _l("Monitoring"), "routine": _l("Daily routine"), "emotions": _l("Emotions"),
          "seasonal": _l("Seasons")}
ROLE = {"main": _l("Main constitution"), "tendency": _l("Tendency")}
MEASURE = {"bp": _l("Blood pressure"), "weight": _l("Weight"), "glucose": _l("Fasting glucose")}
