"""What questionnaire values are called on screen."""
from flask_babel import lazy_gettext as _l

KIND = {"screening": _l("Screening"), "intake": _l("Intake form"), "lifestyle": _l("Lifestyle"),
        "survey": _l("Satisfaction survey")}
STATUS = {"requested": _l("Sent, not opened"), "in_progress": _l("Being filled in"), "submitted": _l("Submitted"),
          "cancelled": _l("Withdrawn")}
CHANNEL = {"link": _l("Link by SMS or email"), "portal": _l("Portal"), "kiosk": _l("Front-desk tablet"),
           "staff": _l("Entered by staff"), "api": _l("Sync API")}
PROPOSAL = {"pending": _l("To confirm"), "accepted": _l("Added to the record"), "declined": _l("Not taken")}
FIELD = {"smoking": _l("Smoking"), "alcohol": _l("Alcohol"), "exercise": _l("Exercise"),
         "history:illness": _l("Past illness"), "history:surgery": _l("Surgery"), "history:allergy": _l("Allergy"),
         "history:family": _l("Family history"), "history:medication": _l("Current medication")}
RECOVERY_STATUS = {"open": _l("Open"), "closed": _l("Closed")}
