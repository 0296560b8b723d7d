"""What the follow-ups capability tells the others (see app/core/events.py)."""
from app.core import events

followup_recorded = events.define(
    "followup-recorded", "A contact on a follow-up task was recorded: task_id, patient_id, result, completed (the "
    "contact reached the patient and the task is done).")
