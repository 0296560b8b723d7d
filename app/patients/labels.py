"""Display labels for the patient vocabularies, through Babel."""
from flask_babel import lazy_gettext as _l

SEX = {"M": _l("Male"), "F": _l("Female")}
SOURCE_CHANNEL = {
    "walk_in": _l("Walk-in"),
    "referral": _l("Referral"),
    "online": _l("Online"),
    "corporate": _l("Corporate health check"),
    "community": _l("Community outreach"),
    "other": _l("Other"),
}
HISTORY_KIND = {
    "illness": _l("Past illnesses"),
    "surgery": _l("Surgeries"),
    "allergy": _l("Allergies"),
    "family": _l("Family history"),
    "medication": _l("Current medications"),
}
SMOKING = {"": _l("Not recorded"), "never": _l("Never smoked"), "former": _l("Former smoker"),
           "current": _l("Current smoker")}
ALCOHOL = {"": _l("Not recorded"), "none": _l("No alcohol"), "occasional": _l("Occasional"),
           "regular": _l("Regular")}
EXERCISE = {"": _l("Not recorded"), "none": _l("No regular exercise"), "occasional": _l("Occasional"),
            "regular": _l("Regular (150 min a week or more)")}
