"""The words the risk pages use for inputs, sources and values, through Babel."""
from flask_babel import lazy_gettext as _l

INPUT = {
    "sex": _l("Sex"), "age": _l("Age"), "total_cholesterol": _l("Total cholesterol"),
    "hdl_cholesterol": _l("HDL cholesterol"), "systolic_bp": _l("Systolic pressure"),
    "diastolic_bp": _l("Diastolic pressure"), "bp_treated": _l("Taking blood-pressure medication"),
    "smoker": _l("Smoking"), "diabetes": _l("Diabetes"), "bmi": _l("Body-mass index"), "waist": _l("Waist"),
    "family_diabetes": _l("Family history of diabetes"), "active_30min_daily": _l("Active 30 minutes a day"),
    "vegetables_daily": _l("Vegetables or fruit every day"),
    "bp_medication_ever": _l("Ever took blood-pressure medication"),
    "high_glucose_ever": _l("Ever found with high blood glucose"), "urine_acr": _l("Urine albumin/creatinine"),
    "egfr": _l("eGFR"), "creatinine": _l("Creatinine"), "fasting_glucose": _l("Fasting glucose"),
    "triglycerides": _l("Triglycerides"),
}
# a yes/no factor at its target, in words: "Not smoking: 8.1% (now 13.5%)"
AT_TARGET = {
    ("smoker", False): _l("Not smoking"), ("active_30min_daily", True): _l("Active 30 minutes a day"),
    ("vegetables_daily", True): _l("Vegetables or fruit every day"),
}
KIND = {"observation": _l("result"), "answer": _l("questionnaire"), "history": _l("health history"),
        "card": _l("patient card")}
CHOICE = {"male": _l("male"), "female": _l("female"), "none": _l("none"),
          "second_degree": _l("grandparent, aunt, uncle or cousin"),
          "first_degree": _l("parent, sibling or child"),
          "criterion_met": _l("meets its criterion"), "criterion_not_met": _l("does not meet its criterion")}
UNIT = {"points": _l("points"), "years": _l("years"), "{score}": _l("points"), "{criteria}": _l("criteria met")}
STATUS = {"missing": _l("Not assessed: inputs are missing"),
          "outside_ages": _l("Outside the ages the model was made for")}
