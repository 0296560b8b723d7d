"""What the tagging capability tells the others (see app/core/events.py)."""
from app.core import events

tags_changed = events.define(
    "tags-changed", "Tags were added to or taken from patients: patient_ids (None: anyone in the clinic, "
    "after a clinic-wide run), tag_ids.")
