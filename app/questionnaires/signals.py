"""What the questionnaires capability tells the others (see app/core/events.py)."""
from app.core import events

response_submitted = events.define(
    "questionnaire-submitted", "A patient submitted a questionnaire and it was scored: response_id, patient_id, "
    "questionnaire_key, scores ({score key: value}), flags (flag keys), context (what asked for it: "
    "task_id, order_id).")
