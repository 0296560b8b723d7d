"""What each audit action is called on screen."""
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Failed sign-in"),
    "sign_in_locked": _l("Sign-in while locked"),
    "sign_out": _l("Signed out"),
    "patient_enrolled": _l("Opened a card"),
    "patient_edited": _l("Edited patient details"),
    "history_edited": _l("Edited health history"),
    "patient_archived": _l("Archived a patient"),
    "patient_restored": _l("Restored a patient"),
    "identifiers_viewed": _l("Viewed full identifiers"),
    "card_printed": _l("Printed a member card"),
    "file_downloaded": _l("Downloaded a file"),
    "staff_added": _l("Added a staff member"),
    "staff_changed": _l("Changed a staff account"),
    "results_entered": _l("Entered results"),
    "reports_imported": _l("Imported exam reports"),
    "alert_acknowledged": _l("Acknowledged a result alert"),
    "api_token_created": _l("Created an API token"),
    "api_token_revoked": _l("Revoked an API token"),
    "table_mapping_saved": _l("Saved a spreadsheet mapping"),
    "table_mapping_deleted": _l("Deleted a spreadsheet mapping"),
}
