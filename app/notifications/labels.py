"""Display names of the notification vocabularies."""
from flask_babel import lazy_gettext as _l

STATUS = {"pending": _l("Pending"), "sending": _l("Sending"), "sent": _l("Sent"), "failed": _l("Failed"),
          "cancelled": _l("Cancelled")}
CHANNEL = {"email": _l("Email"), "sms": _l("SMS"), "inapp": _l("In-app")}
CATEGORY = {"security": _l("security"), "care": _l("care"), "marketing": _l("marketing")}
TEMPLATE = {
    "signin_code": _l("Sign-in code"),
    "staff_password_reset": _l("Password reset link (to staff)"),
    "booking_confirmation": _l("Booking confirmation"),
    "booking_reminder": _l("Booking reminder"),
    "followup_reminder": _l("Follow-up reminder"),
    "abnormal_result_alert": _l("Abnormal-result alert (to staff)"),
    "critical_result_alert": _l("Critical-value alert (to staff)"),
    "critical_alert_escalated": _l("Critical value not acknowledged in time (to staff)"),
    "report_ready": _l("Report ready"),
    "booking_cancelled": _l("Booking cancelled"),
    "booking_changed": _l("Booking changed"),
    "followup_digest": _l("Follow-up digest (to staff)"),
    "followup_visit_reminder": _l("Follow-up visit reminder"),
    "followup_escalated": _l("Follow-up escalated (to staff)"),
    "questionnaire_reminder": _l("Intake form reminder"),
    "satisfaction_low_score": _l("Low satisfaction score (to staff)"),
    "care_plan_started": _l("Care plan started"),
    "care_plan_reminder": _l("Care plan weekly reminder"),
    "advice_released": _l("New advice released"),
}
