"""What plan and task values are called on screen."""
from flask_babel import lazy_gettext as _l

TRIGGER = {"tag_added": _l("A tag is added"), "enrolment": _l("A card is opened"),
           "report_imported": _l("An exam report is imported"), "booking_completed": _l("A booked exam is completed")}
SCHEDULE = {"days": _l("On given days"), "interval": _l("Every N days for M months")}
CHANNEL = {"phone": _l("Phone call"), "visit": _l("Visit"), "message": _l("Message"),
           "form": _l("Questionnaire for the patient to fill in")}
RESULT = {"reached": _l("Reached"), "no_answer": _l("No answer"), "wrong_number": _l("Wrong number"),
          "refused": _l("Refused")}
STATUS = {"pending": _l("To follow up"), "done": _l("Followed up"), "cancelled": _l("Cancelled")}
MEASURE = {"systolic": _l("Systolic BP (mmHg)"), "diastolic": _l("Diastolic BP (mmHg)"), "weight": _l("Weight (kg)"),
           "glucose": _l("Fasting glucose (mmol/L)")}
