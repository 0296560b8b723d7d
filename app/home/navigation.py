"""The staff menu: six groups, each listing the pages of its part of the
clinic that the signed-in role may open, and the settings hub's links.

Endpoints are named here as strings: the menu links to the capabilities'
pages without importing them. A page belongs to a group by its endpoint
(``ENDPOINT_GROUP``) or else by its blueprint (``BLUEPRINT_GROUP``); the
menu marks the current group and page with aria-current="page".
"""
from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: object
    permission: str
    hint: object = ""


# Settings: what the hub lists, by section.
SETTINGS = (
    (_l("Clinic"), (
        Link("clinic.profile", _l("Clinic profile"), "clinic.profile",
             _l("name, address, phone, logo and time zone")),
        Link("clinic.sign_in", _l("Sign-in settings"), "clinic.profile",
             _l("session timeouts and two-factor sign-in")),
        Link("auth.staff_list", _l("Staff"), "staff.manage", _l("accounts, roles, locked sign-ins")),
        Link("audit.index", _l("Audit trail"), "audit.view", _l("who viewed, changed, exported or printed what")),
    )),
    (_l("Results"), (
        Link("records_admin.indicators", _l("Indicator catalogue"), "records.catalogue",
             _l("indicators, units and reference ranges")),
        Link("records_admin.lab_codes", _l("Lab codes"), "records.catalogue",
             _l("map the codes labs send to the catalogue")),
        Link("record_mappings.index", _l("Spreadsheet layouts"), "records.catalogue",
             _l("how spreadsheet reports are read")),
        Link("records.alert_settings", _l("Alert settings"), "alerts.settings",
             _l("acknowledgement deadline, backups, escalation numbers")),
        Link("records.release_settings", _l("Releasing results"), "alerts.settings",
             _l("when results reach the patient's portal")),
        Link("report_style.edit", _l("Report style"), "reports.templates",
             _l("the printed report's colour, sections and their order")),
        Link("api_tokens.tokens", _l("API tokens"), "api.manage", _l("lab systems that send reports")),
    )),
    (_l("Care"), (
        Link("tagging.rule_list", _l("Tag rules"), "tagging.rules", _l("which patients get which tag")),
        Link("followups_admin.plan_list", _l("Follow-up plans"), "followups.manage",
             _l("what starts a plan, when its calls fall due")),
        Link("advice_library.index", _l("Advice library"), "advice.library",
             _l("diet, exercise, mental health, sleep, smoking and alcohol advice")),
    )),
    (_l("Bookings"), (
        Link("booking_admin.packages", _l("Exam packages"), "booking.manage", _l("what the shop offers")),
        Link("booking_admin.capacity", _l("Capacity and rules"), "booking.manage",
             _l("time slots, places, cut-offs, closed days")),
    )),
    (_l("Messages"), (
        Link("notifications.template_list", _l("Message templates"), "notifications.templates",
             _l("the wording of every message")),
        Link("notifications.settings", _l("Message settings"), "notifications.templates",
             _l("quiet hours and channels")),
    )),
    (_l("My account"), (
        Link("account.index", _l("My account"), "account.self", _l("password, two-factor sign-in, sessions")),
    )),
)

# The menu: group key, label, the group's pages (the first one permitted is where the group's link goes).
GROUPS = (
    ("home", _l("Workbench"), (Link("home.dashboard", _l("My day"), "dashboard.view"),
                               Link("notifications.inbox", _l("Inbox"), "dashboard.view"))),
    ("patients", _l("Patients"), (Link("patients.index", _l("Find a patient"), "patients.view"),
                                  Link("patients.enrol", _l("Open a card"), "patients.enrol"),
                                  Link("risk.population_view", _l("Patients by risk"), "patients.view"))),
    ("followups", _l("Follow-ups"), (Link("followups.workbench", _l("My follow-ups"), "followups.work"),
                                     Link("followups.overview", _l("All follow-ups"), "followups.manage"),
                                     Link("notifications.outbox", _l("Messages sent"), "notifications.view"))),
    ("booking", _l("Bookings"), (Link("booking.schedule", _l("Exam schedule"), "booking.schedule"),)),
    ("records", _l("Reports and results"), (Link("records.alert_list", _l("Alerts"), "alerts.view"),
                                            Link("records.bulk_import", _l("Import reports"), "records.import"),
                                            Link("records.unmatched", _l("Unmatched reports"), "records.import"),
                                            Link("batches.index", _l("Print reports in a batch"), "reports.print"))),
    ("settings", _l("Settings"), (Link("settings.index", _l("All settings"), "account.self"),)),
)
LABELS = {key: label for key, label, _links in GROUPS}

SETTINGS_ENDPOINTS = frozenset(link.endpoint for _title, links in SETTINGS for link in links)
ENDPOINT_GROUP = {"notifications.inbox": "home", "notifications.outbox": "followups",
                  "notifications.dev_outbox": "followups", "records.patient_records": "patients",
                  "notifications.preferences": "patients", "booking.order": "booking"}
BLUEPRINT_GROUP = {"home": "home", "patients": "patients", "followups": "followups", "booking": "booking",
                   "records": "records", "settings": "settings", "clinic": "settings", "audit": "settings",
                   "records_admin": "settings", "record_mappings": "settings", "tagging": "settings",
                   "followups_admin": "settings", "booking_admin": "settings", "account": "settings",
                   "notifications": "settings", "api_tokens": "settings", "risk": "patients",
                   "reports": "patients", "summaries": "patients", "batches": "records",
                   "report_style": "settings"}


def group_of(endpoint: str | None) -> str | None:
    if not endpoint:
        return None
    if endpoint in ENDPOINT_GROUP:
        return ENDPOINT_GROUP[endpoint]
    if endpoint in SETTINGS_ENDPOINTS or endpoint.startswith("auth.staff"):
        return "settings"
    if endpoint == "followups.patient_tasks":
        return "patients"
    return BLUEPRINT_GROUP.get(endpoint.split(".", 1)[0])


@dataclass
class MenuItem:
    label: object
    url: str
    current: bool


@dataclass
class MenuGroup:
    key: str
    label: object
    url: str
    current: bool
    items: list


def _allowed(links) -> list[Link]:
    return [link for link in links if current_user.can(link.permission)]


def menu() -> list[MenuGroup]:
    """The groups and pages the signed-in staff member may open, the current ones marked."""
    here = request.endpoint
    active = group_of(here)
    groups = []
    for key, label, links in GROUPS:
        allowed = _allowed(links)
        if not allowed:
            continue
        items = [MenuItem(link.label, url_for(link.endpoint), link.endpoint == here) for link in allowed]
        groups.append(MenuGroup(key, label, items[0].url, key == active, items))
    return groups


def current_group_label() -> object:
    """The current page's group, for the page title ("" outside the staff menu)."""
    if not (current_user and current_user.is_authenticated):
        return ""
    return LABELS.get(group_of(request.endpoint) or "", "")


def settings_sections() -> list[tuple[object, list[Link]]]:
    """The hub's sections and links the signed-in role may open (sections with none left out)."""
    return [(title, allowed) for title, links in SETTINGS if (allowed := _allowed(links))]
