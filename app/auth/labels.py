"""How roles read on screen."""
from flask_babel import lazy_gettext as _l

ROLE = {
    "owner": _l("Owner"),
    "admin": _l("Admin"),
    "doctor": _l("Doctor"),
    "health_manager": _l("Health manager"),
    "front_desk": _l("Front desk"),
}
