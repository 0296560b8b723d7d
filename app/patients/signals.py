"""What the patients capability tells the others (see app/core/events.py)."""
from app.core import events

card_opened = events.define(
    "card-opened", "A patient card was opened (开卡): patient_id.")
card_changed = events.define(
    "card-changed", "A card's details changed: patient_id, fields (names of what changed, "
    "'mobile' and 'id_number' included; never their values).")
history_changed = events.define(
    "history-changed", "A patient's health history or habits changed: patient_id.")
cards_merged = events.define(
    "cards-merged", "A self-registered card was merged into an existing card: source_id, target_id. Each "
    "capability moves its rows of source_id to target_id in the same transaction (or raises "
    "patients.MergeRefused to stop the merge).")
