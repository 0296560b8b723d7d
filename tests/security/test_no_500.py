"""No input gives a 500 (issue 12, item 9).

Every POST form is discovered, not listed: each GET route of the URL map is opened
(with the clinic's own ids) as every staff role, as a visitor and as a signed-in
patient; each <form method="post"> and each hx-post element found there is a form.
Each field of each form then gets hostile values one at a time (NUL, a 20-digit
number, 10,000 characters, a script tag, a right-to-left override, invalid UTF-8),
the other fields keeping what the page filled in. No answer may be a 5xx, and a
refusal (4xx) leaves the clinic's data exactly as it was: nothing half-stored.
Every POST route must have been reached through a discovered form, except the few
that no page offers as a form (named below with the reason).
"""
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from flask import got_request_exception, url_for
from sqlalchemy import text

from app.core.access import ROLES
from tenants.context import tenant_context
from tenants.db import db
from tests.portal.conftest import last_code, patient_client  # noqa: F401 (fixtures)
from tests.test_route_walk import ARG_SAMPLES, clinic_b  # noqa: F401 (a clinic with one of everything)

HOSTILE: dict[str, str | bytes] = {
    "nul": "a\x00b",
    "twenty digits": "99999999999999999999",
    "10,000 characters": "长" * 10_000,
    "script": "<script>alert(1)</script>",
    "right-to-left override": "\u202egnp.exe",
    "invalid UTF-8": b"\xff\xfe\xc3\x28",
    "infinity": "inf",
}
# POST routes no page shows as a form, and why they are still safe to leave out of the walk
NOT_FORMS = {
    "api.fhir": "the lab API (tests/security/test_import_limits.py sends it hostile bodies)",
    "api.hl7": "the lab API (tests/security/test_import_limits.py sends it hostile bodies)",
    "questionnaire_api.post_responses": "the FHIR QuestionnaireResponse API (tests/questionnaires/test_fhir_api.py "
                                        "sends it bad JSON, foreign bundles and unknown cards)",
    "auth.logout": "signing out would end the walk",
    "portal.sign_out": "signing out would end the walk",
    "portal.verify_code": "its form follows a posted sign-in (tests/security/test_redirects.py posts to it)",
    "followups.task_detail": "the fixture's only task is already recorded; tests/followups post to the form",
    "patients.restore": "offered only for an archived card; the walk's card is open (archive is walked)",
    "notifications.resend": "offered only for a failed message; tests/notifications post to it",
    "notifications.mark_read": "offered only for an unread inbox message; tests/notifications post to it",
    "notifications.template_reset": "offered only for a customised template (template_edit is walked)",
    "notifications.unsubscribe": "a bare button on the token's page, no field; tests/notifications post to it",
    "portal.message_read": "offered only for a message to the patient; tests/portal post to it",
    "portal.messages_read_all": "offered only when the patient has messages; tests/portal post to it",
    "shop.book": "its form follows a chosen day and slot (htmx); tests/portal post to it",
    "advice.compose": "offered only to a patient with no draft sheet; the walk's patient has one (recompose is walked; "
                      "tests/interventions/test_advice_hostile.py posts hostile values to it)",
    "auth.sign_in_code": "the second sign-in step, after a password of an account with two factors "
                         "(tests/security/test_totp.py)",
    "auth.reset_password": "reached by an emailed single-use link (tests/security/test_password_reset.py)",
    "auth.staff_unlock": "offered only for an account with a sign-in delay (tests/security/test_signin_throttle.py)",
    "account.two_factor_setup": "the set-up page follows choosing to set up (tests/security/test_totp.py)",
    "auth.two_factor_setup": "the set-up a required second factor asks for at sign-in (tests/security/test_totp.py)",
    "account.two_factor_confirm": "follows the set-up page's code (tests/security/test_totp.py)",
    "account.two_factor_disable": "offered only with two factors on (tests/security/test_totp.py)",
    "account.recovery_codes": "offered only with two factors on (tests/security/test_totp.py)",
    "portal_sessions.end": "offered only for another live device (tests/security/test_sessions.py)",
    "patients.identity_verified": "offered only on a self-registered card (tests/security/test_portal_identity.py)",
    "patients.merge_confirm": "follows choosing the card to merge into (tests/security/test_card_merge.py)",
    "records_admin.old_tokens": "the API tokens' former address, served by api_tokens.tokens (walked)",
    "records_admin.old_revoke": "the former revoke address, served by api_tokens.revoke (walked); tests/home posts",
    "questionnaire_links.fill": "the form behind a signed link texted to the patient (the walk's token argument is "
                                "an unsubscribe token); tests/questionnaires/test_responses_flow.py posts to it",
    "questionnaire_links.save": "the same form's autosave (htmx); tests/questionnaires/test_responses_flow.py "
                                "posts to it",
    "portal_questionnaires.fill": "offered only for a questionnaire the clinic asked of the signed-in patient; "
                                  "tests/questionnaires/test_intake_kiosk.py and bench_questionnaires post to it",
    "portal_questionnaires.save": "the portal form's autosave (htmx); tests/questionnaires post to the same flow",
    "questionnaire_kiosk.fill": "shown only in kiosk mode, which a fieldless button starts "
                                "(tests/questionnaires/test_intake_kiosk.py posts to it)",
    "questionnaire_kiosk.save": "shown only in kiosk mode (tests/questionnaires/test_intake_kiosk.py posts to it)",
    "questionnaire_kiosk.unlock": "shown only in kiosk mode (tests/questionnaires/test_intake_kiosk.py posts to it)",
    "interventions.start_conditioning": "offered only with a TCM constitution result on file "
                                        "(tests/interventions/test_plan_tcm.py posts to it)",
}
# tables whose rows a refusal may add: the audit trail (failed sign-ins), the portal's sign-in codes and
# events behind its limits, the text message that carries a code, and a session's last-seen time
MAY_CHANGE_ON_REFUSAL = {"audit_events", "portal_signin_codes", "portal_signin_events", "notifications",
                         "server_sessions"}


class _Forms(HTMLParser):
    """<form method=post> with their fields, and hx-post elements (with hx-vals)."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self._open, self.links = page_url, [], None, set()
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        for link in (a.get("href") if tag == "a" else "", a.get("hx-get", "")):
            if link and link.startswith("/") and not link.startswith("//"):
                self.links.add(link.split("#")[0])
        if tag == "form" and a.get("method", "get").lower() == "post" or tag == "form" and "hx-post" in a:
            self._open = {"action": a.get("hx-post") or a.get("action") or self.page_url, "fields": {},
                          "multipart": "multipart" in a.get("enctype", "")}
            self.forms.append(self._open)
        elif "hx-post" in a and tag != "form":
            vals = json.loads(a["hx-vals"]) if a.get("hx-vals", "").startswith("{") else {}
            fields = dict(self._open["fields"]) if self._open else {}
            if a.get("name"):
                fields[a["name"]] = a.get("value", "")
            self.forms.append({"action": a["hx-post"], "fields": {**fields, **vals}, "multipart": False})
        if self._open is None:
            return
        fields = self._open["fields"]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "file":
                self._open["multipart"] = True
                fields[a["name"]] = None
            elif kind in ("checkbox", "radio"):
                if "checked" in a or a["name"] not in fields:
                    fields[a["name"]] = a.get("value", "on") if "checked" in a else fields.get(a["name"], "")
            elif kind not in ("submit", "button", "image", "reset"):
                fields[a["name"]] = a.get("value", "")
        elif tag in ("textarea",) and a.get("name"):
            fields[a["name"]] = ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            fields.setdefault(a["name"], "")
        elif tag == "option" and self._select:
            if "selected" in a or not fields[self._select]:
                fields[self._select] = a.get("value", "")
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            fields.setdefault(a["name"], a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None
        elif tag == "select":
            self._select = None


def _pages(app, host: str, ids: dict) -> list[str]:
    """Every GET route of the URL map, with the clinic's own ids."""
    urls = []
    with app.test_request_context(base_url=f"http://{host}"):
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.startswith("api."):
                continue
            if any(arg not in ids for arg in rule.arguments):
                continue
            urls.append(url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments}))
    return sorted(set(urls))


def _discover(client, urls: list[str]) -> dict[str, dict]:
    """Forms on every page of the URL map and on the pages their links lead to (one step,
    at most two links to each kind of page)."""
    forms: dict[tuple, dict] = {}
    links: set[str] = set()
    batch = list(urls)
    for _step in (0, 1):
        for url in sorted(batch):
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            parser = _Forms(url)
            parser.feed(response.get_data(as_text=True))
            links.update(link for link in parser.links if "/logout" not in link)
            for form in parser.forms:
                action = urlsplit(form["action"]).path
                key = (action, tuple(sorted(form["fields"])))
                forms.setdefault(key, dict(form, action=form["action"]))
        kinds: dict[str, list[str]] = {}
        for link in sorted(links - set(urls)):
            kinds.setdefault(_endpoint(client.application, client.host, link, "GET"), []).append(link)
        batch = [link for found in kinds.values() for link in found[:2]]
    return {f"{k[0]} {list(k[1])}": v for k, v in forms.items()}


def _fingerprint(app, tenant_id: int) -> dict[str, str]:
    """Each clinic table's rows, as one digest per table."""
    with app.app_context(), tenant_context(tenant_id):
        tables = [t for t in db.metadata.sorted_tables if "tenant_id" in t.c and t.name not in MAY_CHANGE_ON_REFUSAL]
        if db.engine.dialect.name != "postgresql":
            query = " UNION ALL ".join(f"SELECT '{t.name}', count(*) || '' FROM {t.name} AS x "
                                       "WHERE x.tenant_id = :tenant" for t in tables)
        else:  # each table read for the one clinic (row-level security would see to it; the Citus check asks)
            query = " UNION ALL ".join(
                f"SELECT '{t.name}', count(*) || ':' || coalesce(sum(hashtext(x::text)::bigint), 0) "
                f"FROM {t.name} AS x WHERE x.tenant_id = :tenant" for t in tables)
        return dict(db.session.execute(text(query), {"tenant": tenant_id}).all())


def _post(client, form: dict, field: str, value, token: str):
    values = {k: ("" if v is None else v) for k, v in form["fields"].items()}
    values[field] = value
    values["csrf_token"] = token
    headers = {"X-CSRFToken": token}
    if form["multipart"]:
        data = {k: (v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in values.items()
                if form["fields"].get(k, "") is not None or k == field}
        return client.post(form["action"], data=data, headers=headers, content_type="multipart/form-data")
    body = urlencode([(k, v) for k, v in values.items()])
    return client.post(form["action"], data=body, headers=headers,
                       content_type="application/x-www-form-urlencoded")


def _walk(app, holder: dict, tenant_id: int, forms: dict, who: str, relogin, raised: list) -> tuple[list, list]:
    failures, half = [], []
    state = _fingerprint(app, tenant_id)  # a refusal leaves it as it was: one reading per request
    for form in forms.values():
        fields = [f for f in form["fields"] if f != "csrf_token"]
        for field in fields:
            for label, value in HOSTILE.items():
                client = holder["client"]
                raised.clear()
                response = _post(client, form, field, value, client.csrf())
                where = f"{who}: {form['action']} field {field!r} = {label}"
                now = _fingerprint(app, tenant_id)
                if response.status_code >= 500:
                    failures.append(f"{where} -> {response.status_code} {raised[-1] if raised else ''}")
                elif response.status_code >= 400:
                    changed = [t for t in now if now[t] != state.get(t)]
                    if changed:
                        half.append(f"{where} -> {response.status_code} but changed {changed}")
                state = now
                if response.status_code in (302, 401) and "/login" in response.headers.get("Location", ""):
                    relogin()
    return failures, half


def test_no_form_answers_a_server_error(app, clinic_b, make_staff, client_for, patient_client):  # noqa: F811
    tenant, ids, _markers = clinic_b
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is an answer here, as in production
    raised: list[str] = []

    def note(_sender, exception, **_extra):
        raised.append(f"{type(exception).__name__}: {str(exception).splitlines()[0][:160]}")

    got_request_exception.connect(note, app)
    pages = _pages(app, tenant.host, {**ARG_SAMPLES, **ids})
    reached: set[str] = set()
    failures, half = [], []
    try:
        clients = {}
        for role in ROLES:
            email = {"owner": tenant.owner_email, "doctor": "secret.doctor@b.test"}.get(role)
            clients[role] = (lambda e=email or make_staff(tenant, role).email: client_for(tenant, e))
        clients["visitor"] = lambda: client_for(tenant)
        clients["patient"] = lambda: patient_client(tenant, "13599998888")
        found_by: dict[str, tuple] = {}
        for who, make in clients.items():  # every form first, while the clinic is as the fixture made it
            holder = {"client": make()}
            forms = _discover(holder["client"], pages)
            for form in forms.values():
                reached.add(_endpoint(app, tenant.host, form["action"]))
            found_by[who] = (make, holder, {k: v for k, v in forms.items()
                                            if not any(k in other[2] for other in found_by.values())})
        for who, (make, holder, forms) in found_by.items():  # then each form once, by the first who saw it

            def relogin(make=make, holder=holder):
                holder["client"] = make()

            found, partial = _walk(app, holder, tenant.id, forms, who, relogin, raised)
            failures += found
            half += partial
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
        got_request_exception.disconnect(note, app)
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    unreached = sorted(posts - reached - set(NOT_FORMS))
    if failures or half or unreached:
        pytest.fail("\n".join(["server errors:", *failures, "refused but stored:", *half,
                                "POST routes no page offered as a form:", *unreached]), pytrace=False)


def _endpoint(app, host: str, action: str, method: str = "POST") -> str:
    adapter = app.url_map.bind(host)
    try:
        endpoint, _args = adapter.match(urlsplit(action).path, method=method)
    except Exception:
        return f"? {action}"
    return endpoint


@pytest.mark.parametrize("value", ["inf", "NaN", "-inf", "sNaN", "1e999999", "99999999999999999999"])
def test_a_package_price_that_is_no_amount_is_a_message(make_tenant, client_for, value):
    from app.booking.services import parse_price

    with pytest.raises(ValueError):
        parse_price(value)
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    parser = _Forms("/booking/admin/packages/new")
    parser.feed(client.get("/booking/admin/packages/new").get_data(as_text=True))
    form = next(f for f in parser.forms if "price" in f["fields"])
    fields = dict(form["fields"], name="套餐", price=value, items="血糖: 14771-0")
    response = _post(client, dict(form, fields=fields), "price", value, client.csrf())
    assert response.status_code == 400, response.status_code
    assert re.search(r"Enter the price|price is too high|价格", response.get_data(as_text=True))


def test_a_result_whose_alert_exists_raises_no_second_one(app, make_tenant, make_patient):
    """raise_for on a result that already has its alert (stored again, made current again)."""
    from datetime import datetime, timezone

    from app.patients import services as patients
    from app.records import alerts
    from app.records import services as records
    from app.records.models import Alert

    tenant = make_tenant()
    patient = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        p = patients.get(patient.id)
        glucose = records.indicator_by_code("14771-0")
        stored = records.store(p, records.Value(glucose, "30", "mmol/L", datetime(2025, 1, 1, tzinfo=timezone.utc),
                                                lab_flag="HH"))
        assert len(alerts.raise_for(p, [stored.observation])) == 1
        assert alerts.raise_for(p, [stored.observation]) == []
        db.session.commit()
        assert db.session.query(Alert).count() == 1
