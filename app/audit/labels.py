"""What each audit action is called on screen."""
from flask_babel import lazy_gettext as _l

ACTION = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Failed sign-in"),
    "sign_in_locked": _l("Sign-in while locked"),
    "sign_in_throttled": _l("Sign-in held back after failed tries"),
    "sign_in_delay_cleared": _l("Cleared a sign-in delay"),
    "sign_out": _l("Signed out"),
    "session_ended": _l("Ended a session"),
    "password_changed": _l("Changed own password"),
    "password_reset_requested": _l("Asked for a password reset link"),
    "password_reset": _l("Set a new password from a reset link"),
    "two_factor_enabled": _l("Switched on two-factor sign-in"),
    "two_factor_disabled": _l("Switched off two-factor sign-in"),
    "recovery_code_used": _l("Signed in with a recovery code"),
    "recovery_codes_renewed": _l("Made new recovery codes"),
    "session_policy_changed": _l("Changed the sign-in settings"),
    "patient_enrolled": _l("Opened a card"),
    "patient_edited": _l("Edited patient details"),
    "history_edited": _l("Edited health history"),
    "patient_archived": _l("Archived a patient"),
    "patient_restored": _l("Restored a patient"),
    "identifiers_viewed": _l("Viewed full identifiers"),
    "phone_revealed": _l("Showed a patient's phone number for a follow-up call"),
    "card_printed": _l("Printed a member card"),
    "file_downloaded": _l("Downloaded a file"),
    "staff_added": _l("Added a staff member"),
    "staff_changed": _l("Changed a staff account"),
    "results_entered": _l("Entered results"),
    "reports_imported": _l("Imported exam reports"),
    "result_retracted": _l("A lab retracted a result"),
    "report_conflict": _l("A report for another patient was held for review"),
    "lab_code_mapped": _l("Mapped a lab code"),
    "alert_acknowledged": _l("Acknowledged a result alert"),
    "alert_escalated": _l("Escalated an unacknowledged critical value"),
    "alert_settings_changed": _l("Changed the critical-value settings"),
    "api_token_created": _l("Created an API token"),
    "api_token_revoked": _l("Revoked an API token"),
    "table_mapping_saved": _l("Saved a spreadsheet mapping"),
    "table_mapping_deleted": _l("Deleted a spreadsheet mapping"),
    "indicator_limits_saved": _l("Changed an indicator's reference ranges or limits"),
    "package_saved": _l("Saved an exam package"),
    "booking_rules_changed": _l("Changed booking capacity or rules"),
    "order_changed": _l("Changed a booking"),
    "portal_sign_in": _l("Patient signed in to the portal"),
    "portal_linked": _l("Portal account linked to a card"),
    "portal_unlinked": _l("Portal account unlinked from a card"),
    "identity_verified": _l("Checked a self-registered patient's identity"),
    "cards_merged": _l("Merged a self-registered card into another"),
    "followup_plan_saved": _l("Saved a follow-up plan"),
    "followup_recorded": _l("Recorded a follow-up"),
    "recording_uploaded": _l("Attached a call recording"),
    "recording_played": _l("Played a call recording"),
    "clinic_profile_changed": _l("Changed the clinic profile"),
}

ACTION.update({
    "record_opened": _l("Opened the record"),
    "audit_exported": _l("Exported the audit trail"),
    "tag_rule_saved": _l("Saved a tag rule"),
    "tag_rule_deleted": _l("Deleted a tag rule"),
    "portal_results_viewed": _l("Read their results in the portal"),
    "portal_booked": _l("Booked in the portal"),
})

# what the keys of an event's details are called
DETAIL = {
    "fields": _l("fields"), "section": _l("section"), "added": _l("added"), "removed": _l("removed"),
    "file": _l("file"), "reports": _l("reports"), "results": _l("results"), "unmatched": _l("waiting for a patient"),
    "errors": _l("errors"), "count": _l("values"), "card_no": _l("card"), "order_no": _l("order"),
    "role": _l("role"), "active": _l("active"), "email": _l("email"), "name": _l("name"), "kind": _l("kind"),
    "timezone": _l("time zone"), "token": _l("API token"), "filters": _l("filters"), "rows": _l("rows"),
    "package": _l("package"), "day": _l("date"), "result": _l("result"), "change": _l("change"),
    "staff_id": _l("staff member"), "source_id": _l("merged card"), "target_id": _l("card kept"),
    "source_card_no": _l("merged card number"), "target_card_no": _l("card number kept"),
    "version": _l("version"), "tag": _l("tag"), "prefix": _l("token starts with"), "format": _l("format"),
    "reason": _l("reason"), "alert": _l("alert"), "tier": _l("level"), "informed": _l("person informed"),
    "late": _l("late"), "told": _l("told"), "code": _l("code"), "sender": _l("sender"),
    "stored": _l("results stored"), "still_waiting": _l("still waiting"), "value": _l("value"),
    "indicator": _l("indicator"), "before": _l("before"), "after": _l("after"), "paid": _l("paid"),
    "step": _l("step"), "note": _l("note"),
}

# what the names of a card's fields are called (in "fields changed")
FIELD = {
    "name": _l("name"), "sex": _l("sex"), "birth_date": _l("birth date"), "mobile": _l("mobile"),
    "id_number": _l("ID number"), "email": _l("email"), "address": _l("address"),
    "emergency_name": _l("emergency contact"), "emergency_phone": _l("emergency phone"),
    "source_channel": _l("how they came"), "responsible_doctor_id": _l("responsible doctor"),
    "health_manager_id": _l("health manager"), "preferred_locale": _l("language"),
}

# the parts of a card's health history that are not kinds of history item
SECTION = {"tags": _l("tags"), "lifestyle": _l("lifestyle")}
