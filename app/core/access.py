"""Access control: the staff roles and one permission map, enforced on the
server for every view.

Every view is decorated with ``@requires(permission)`` or ``@public``; a test
walks the URL map and fails on any endpoint that has neither.
"""
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user
from htmx_flask import make_response

ROLES = ("owner", "admin", "doctor", "health_manager", "front_desk")
_CLINICAL = {"owner", "admin", "doctor", "health_manager"}
_EVERYONE = set(ROLES)

ROLE_PERMISSIONS: dict[str, set[str]] = {
    "dashboard.view": _EVERYONE,
    "dashboard.clinic": {"owner", "admin"},  # the clinic dashboard: figures across every patient and person
    "account.self": _EVERYONE,  # one's own password, two-factor sign-in and sessions
    "patients.view": _EVERYONE,
    "patients.enrol": _EVERYONE,
    "patients.edit": _EVERYONE,
    "patients.history": _CLINICAL,
    "patients.lifestyle": _EVERYONE,  # smoking, alcohol, exercise: asked at the desk as often as in the room
    "patients.archive": {"owner", "admin"},
    "patients.merge": {"owner", "admin", "front_desk"},
    "patients.view_mobile": _EVERYONE,
    "patients.view_id_number": {"owner", "admin", "doctor", "front_desk"},
    "cards.print": {"owner", "admin", "front_desk", "health_manager"},
    "staff.manage": {"owner", "admin"},
    "audit.view": {"owner", "admin"},
    "jobs.view": _EVERYONE,
    "notifications.view": {"owner", "admin", "health_manager", "front_desk", "doctor"},
    "notifications.manage": {"owner", "admin", "health_manager", "front_desk"},
    "notifications.templates": {"owner", "admin"},
    "records.enter": _EVERYONE,
    "records.import": _EVERYONE,
    "records.catalogue": {"owner", "admin"},
    "api.manage": {"owner", "admin"},
    "alerts.view": _CLINICAL,
    "alerts.ack": {"owner", "admin", "doctor"},
    "alerts.settings": {"owner", "admin"},  # the acknowledgement deadline, backups, numbers for escalations
    "booking.manage": {"owner", "admin"},
    "booking.schedule": _EVERYONE,
    "booking.desk": _EVERYONE,
    "booking.payments": {"owner", "admin", "front_desk"},
    "tags.view": _EVERYONE,
    "tags.assign": _CLINICAL,
    "tagging.rules": {"owner", "admin"},
    "followups.work": _CLINICAL,
    "followups.manage": {"owner", "admin"},
    "followups.enrol": _CLINICAL,  # start a plan for listed patients (the risk population view)
    "followups.recordings": _CLINICAL,
    "clinic.profile": {"owner"},
    "questionnaires.send": _EVERYONE,        # ask a patient to fill one (front desk: the intake form)
    "questionnaires.view": _CLINICAL,        # answers and scores
    "questionnaires.manage": {"owner", "admin"},
    "questionnaires.recovery": {"owner", "admin"},  # satisfaction results, service-recovery cases
    "advice.view": _CLINICAL,                # a patient's advice sheets
    "advice.edit": _CLINICAL,                # compose, edit and release them
    "advice.library": {"owner", "admin"},    # the clinic's advice library
    "reports.print": _EVERYONE,              # print a patient's health report and download the printed ones
    "reports.release": {"owner", "admin", "doctor"},  # show a printed report in the patient's portal
    "results.release": {"owner", "admin", "doctor"},  # show an exam day's results in the patient's portal
    "reports.templates": {"owner", "admin"},  # the clinic's report style: colour, sections and their order
    "summaries.view": _CLINICAL,             # a patient's stage summaries
    "summaries.write": _CLINICAL,            # draft one and edit the draft
    "summaries.sign": {"owner", "admin", "doctor"},  # sign a draft; amend a signed one (a new version)
}

PERMISSIONS = frozenset(ROLE_PERMISSIONS)


def least_privileged_role() -> str:
    """The role holding the fewest permissions: what a new staff member gets unless someone chooses."""
    return min(ROLES, key=lambda role: sum(role in roles for roles in ROLE_PERMISSIONS.values()))


def role_can(role: str, permission: str) -> bool:
    if permission not in ROLE_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role in ROLE_PERMISSIONS[permission]


def _to_login():
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if request.headers.get("HX-Request"):
        return make_response("", 401, redirect=target)
    return redirect(target)


def requires(permission: str):
    if permission not in ROLE_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return _to_login()
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]  # a mark on the view function, read back
        return guarded

    return decorate


def public(view):
    """Mark a view as open to anyone on its host (sign-in page, directory)."""
    view.permission = None
    view.is_public = True
    return view
