"""What the records capability tells the others (see app/core/events.py)."""
from app.core import events

results_stored = events.define(
    "results-stored", "Results were stored, corrected or made current again for patients: patient_ids, codes "
    "(the indicator codes of those results).")
report_imported = events.define(
    "report-imported", "An exam report was filed under a patient (imported, or an unmatched one assigned): "
    "report_id, patient_id, label (its title).")
