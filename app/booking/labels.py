"""What the booking vocabularies are called on screen."""
from flask_babel import lazy_gettext as _l

STATUS = {
    "pending_payment": _l("Awaiting payment"),
    "pay_at_clinic": _l("Booked, pay at the clinic"),
    "paid": _l("Paid"),
    "confirmed": _l("Confirmed"),
    "checked_in": _l("Checked in"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "refunded": _l("Refunded"),
    "no_show": _l("Did not come"),
}
CATEGORY = {
    "general": _l("General check-up"),
    "employment": _l("Pre-employment"),
    "women": _l("Women's health"),
    "senior": _l("Over 50s"),
    "chronic": _l("Chronic disease screening"),
    "other": _l("Other"),
}
SEX = {"": _l("Anyone"), "M": _l("Men only"), "F": _l("Women only")}
WEEKDAY = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
           _l("Sunday")]
# Staff actions on an order: action -> (target status, button label)
ACTION = {
    "confirm": ("confirmed", _l("Confirm")),
    "check_in": ("checked_in", _l("Check in")),
    "complete": ("completed", _l("Mark completed")),
    "no_show": ("no_show", _l("Mark did not come")),
    "cancel": ("cancelled", _l("Cancel the booking")),
    "refund": ("refunded", _l("Mark refunded")),
}
EVENT = {"created": _l("Booked"), "status": _l("Status changed"), "rescheduled": _l("Rescheduled"),
         "payment": _l("Payment recorded")}
