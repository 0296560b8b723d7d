"""What the advice vocabularies are called on screen."""
from flask_babel import lazy_gettext as _l

CATEGORY = {"diet": _l("Diet"), "exercise": _l("Exercise"), "weight": _l("Weight"), "mental": _l("Mental health"),
            "sleep": _l("Sleep"), "smoking_alcohol": _l("Smoking and alcohol")}
STATUS = {"draft": _l("Draft"), "released": _l("Released")}
SEX = {"": _l("Either"), "M": _l("Men"), "F": _l("Women")}
HABIT = {"smoking": _l("Smoking"), "alcohol": _l("Alcohol")}
QUESTIONNAIRE = {"phq9": _l("PHQ-9 (depression)"), "gad7": _l("GAD-7 (anxiety)"),
                 "ipaq_short": _l("IPAQ (physical activity)"), "findrisc": _l("FINDRISC (diabetes risk)")}
NUMBER = {"height_cm": _l("Height"), "weight_kg": _l("Weight"), "bmi": _l("BMI"), "waist_cm": _l("Waist")}
