"""In the system Chromium, axe-core (tests/vendor/axe-core) audits every page
of each staff role and of the patient portal, in Chinese and in English,
against WCAG 2.0 and 2.1 levels A and AA: no violation at all.

Each role walks every page the URL map offers it without arguments, plus the
pages of one patient (card, records, edit, follow-ups), a booking, a
follow-up task and the admin pages of one object each, with a clinic that
has patients with tags, results, alerts, bookings and follow-up tasks. The
portal is walked signed out (shop, a package and its times, sign-in and its
code, the unsubscribe page) and signed in (bookings, an order, reschedule,
cancel, results, messages, who viewed my record, devices). The portal and
the owner's pages are read in Chinese at a phone's width (390 px) and in
English at a desktop's; the other roles at a desktop's. The staff sign-in
pages and an error page are audited too.

The audit's browser context bypasses the Content-Security-Policy so that the
axe script can be injected (tests/security/test_headers.py checks the policy
itself)."""
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.access import ROLES, role_can
from tests.booking.conftest import FIRST_SLOT, make_package, open_day  # noqa: F401  (shared fixture)
from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM
from tests.notifications.conftest import drain  # noqa: F401  (shared fixture)
from tests.portal.conftest import last_code  # noqa: F401  (shared fixture)
from tests.test_browser_tablet import _clinic

pytestmark = [pytest.mark.browser, pytest.mark.redis]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ("zh_CN", "en")
# GET routes without arguments that are no page: a file (the clinic's logo too), a probe, the development outbox,
# the package page's htmx fragments (its catalogue search and an item row: parts of the package page, audited there),
# the exports (files)
NOT_PAGES = {"audit.export", "clinic.logo", "core.healthz", "notifications.dev_outbox", "static", "platform.directory",
             "booking_admin.indicator_search", "booking_admin.package_item",
             "dashboard.export", "patients.export", "booking.schedule_export", "followups.export",
             "records.alerts_export"}

AUDIT_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                                      target: v.nodes[0].target.join(' '),
                                      html: v.nodes[0].html.slice(0, 160)}));
}"""


def _audit(page, url: str, where: str, found: list[str], status: int = 200) -> None:
    """Open ``url`` (unless None: the page already shown), run axe, note each violation."""
    if url is not None:
        response = page.goto(url)
        assert response.status == status, f"{where}: {url} answered {response.status}"
    page.wait_for_load_state("load")
    if page.locator("[hx-trigger^='load']").count():  # parts the page fetches once loaded
        page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    for v in page.evaluate(AUDIT_JS, TAGS):
        found.append(f"{v['id']} ({v['impact']}, {v['count']}×) on {where} [{page.url}]: {v['help']}; "
                     f"first at {v['target']}: {v['html']}")


def _staff_pages(app, role: str, ids: SimpleNamespace) -> list[tuple[str, str]]:
    """(name, path) of every page ``role`` reaches: the URL map's GET routes
    without arguments, then one of each main page about an object (a
    patient's follow-ups and message preferences are parts of the card,
    fetched into it, not pages)."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "permission", None)
        if ("GET" not in rule.methods or rule.arguments or rule.endpoint in NOT_PAGES
                or permission is None or not role_can(role, permission)):
            continue
        pages.append((rule.endpoint, rule.rule))
    patient = ids.patient
    with_object = [
        ("patients.view", "a patient's card", f"/patients/{patient}"),
        ("patients.view", "a patient's records", f"/patients/{patient}/records"),
        ("patients.view", "a patient's risk assessments", f"/patients/{patient}/risk"),
        ("patients.view", "the history of a patient's risk", f"/patients/{patient}/risk/ckd_albuminuria"),
        ("patients.view", "patients by risk, not assessed for want of an input (with the enrol form)",
         "/risk?model=framingham_cvd&band=missing"),
        ("patients.edit", "a patient's details to edit", f"/patients/{patient}/edit"),
        ("patients.merge", "merging a patient", f"/patients/{patient}/merge"),
        ("booking.schedule", "the schedule of a booked day", f"/booking/schedule?day={ids.day}"),
        ("booking.schedule", "a booking", f"/booking/orders/{ids.order}"),
        ("booking.schedule", "the print layout of a booked day", f"/booking/schedule/print?day={ids.day}"),
        ("followups.work", "a patient's follow-up history to print", f"/patients/{patient}/followups/print"),
        ("followups.work", "a follow-up task", f"/followups/tasks/{ids.task}"),
        ("followups.manage", "a follow-up plan", f"/followups/plans/{ids.plan}"),
        ("tagging.rules", "a tag rule", f"/tagging/rules/{ids.rule}"),
        ("booking.manage", "an exam package", f"/booking/admin/packages/{ids.package}/edit"),
        ("records.catalogue", "an indicator's limits", f"/records/indicators/{ids.indicator}"),
        ("notifications.templates", "a message template",
         "/notifications/templates/booking_confirmation/sms/zh_CN"),
        ("dashboard.clinic", "a dashboard figure on a page of its own (without scripts)", "/dashboard/figures/tags"),
    ]
    pages += [(name, path) for permission, name, path in with_object if role_can(role, permission)]
    return pages


def _ids(app, tenant, people, day) -> SimpleNamespace:
    """The objects the walk opens: a patient with tags, results and an alert,
    a booking, a follow-up task, plan, tag rule, package and indicator."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from app.booking.models import ExamPackage, Order
    from app.followups import plans
    from app.followups.models import FollowupTask
    from app.patients import services as patients
    from app.records import alerts
    from app.records import services as records
    from app.tagging import rules as tag_rules
    from tenants.context import tenant_context
    from tenants.db import db

    patient = people[0].id
    with app.app_context(), tenant_context(tenant.id):
        glucose = records.indicator_by_code("14771-0")
        glucose.critical = {"high": 20, "source": "test limits"}  # so that the critical banner shows
        card = patients.get(patient)
        stored = records.store(card, records.Value(glucose, "25.1", "mmol/L",
                                                   datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)))
        raised = alerts.raise_for(card, [stored.observation])
        assert raised and raised[0].kind == "critical"
        draft = tag_rules.RuleDraft("空腹血糖偏高", "血糖偏高", {"op": "and", "items": [{"op": "and", "items": [
            {"source": "indicator", "code": "14771-0", "measure": "latest", "cmp": ">=", "value": 7}]}]})
        rule = tag_rules.save(draft, tag_rules.check(draft))
        plan = plans.list_plans()[0] if plans.list_plans() else plans.save(
            plans.check(plans.PlanDraft(name="入职随访", trigger="enrolment", offsets="0, 7")))
        db.session.commit()
        return SimpleNamespace(
            patient=patient, day=day.isoformat(), rule=rule.id, plan=plan.id,
            order=db.session.scalar(select(Order.id).where(Order.patient_id == patient)),
            task=db.session.scalar(select(FollowupTask.id).where(FollowupTask.patient_id == patient).limit(1)),
            package=db.session.scalar(select(ExamPackage.id).limit(1)),
            indicator=records.indicator_by_code("14771-0").id)


def _english(page, base: str, start: str) -> None:
    page.goto(base + start)
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="中文").wait_for()


def test_every_page_passes_axe(app, make_tenant, make_staff, make_patient, make_package, last_code, drain,
                               pinned_clock):
    from app.booking import services as booking
    from app.notifications.unsubscribe import make_token
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db

    tenant, people, day = _clinic(app, make_tenant, make_patient, make_package)
    ids = _ids(app, tenant, people, day)
    accounts = {role: tenant.owner_email if role == "owner" else make_staff(tenant, role).email for role in ROLES}
    me = people[0]
    later = open_day(6)
    with app.app_context(), tenant_context(tenant.id):
        who = patients.get(me.id)
        gone = booking.book(ids.package, later, FIRST_SLOT, who, idempotency_key="a11y-cancelled")
        booking.cancel(gone, actor_type="patient", actor_id=None)
        db.session.commit()
        cancelled = gone.id
        unsubscribe = make_token(SimpleNamespace(tenant_id=tenant.id, recipient_id=me.id, channel="email",
                                                 category="marketing"))
    drain()  # bookings and the cancellation become messages

    found: list[str] = []
    audited = focusable_boxes = 0
    with live_server(app) as port, chromium(CHROMIUM) as first:
        browser = first.browser
        base = f"http://{tenant.slug}.localhost:{port}"

        # staff, signed out
        for language in LANGUAGES:
            context = browser.new_context(bypass_csp=True)
            page = context.new_page()
            if language == "en":
                _english(page, base, "/login")
            for name, path, status in (("staff sign-in", "/login", 200), ("forgotten password", "/login/forgot", 200),
                                       ("a password reset link that is no good", "/login/reset/no-such-link", 400),
                                       ("a page that is not there", "/no-such-page", 404)):
                _audit(page, base + path, f"{name} ({language})", found, status)
                audited += 1
            context.close()

        # each staff role
        for role in ROLES:
            context = browser.new_context(bypass_csp=True)
            page = context.new_page()
            staff_sign_in(page, base, accounts[role])
            pages = _staff_pages(app, role, ids)
            for language in LANGUAGES:
                if language == "en":
                    _english(page, base, "/")
                # the owner reads Chinese on a phone (tables scroll in their boxes), English on a wide screen
                phone = role == "owner" and language == "zh_CN"
                page.set_viewport_size({"width": 390, "height": 844} if phone else {"width": 1280, "height": 720})
                for name, path in pages:
                    _audit(page, base + path, f"{name} as {role} ({language}{', 390 px' if phone else ''})", found)
                    audited += 1
                    if phone:  # boxes that scroll sideways, made focusable by static/js/scroll-regions.js
                        focusable_boxes += page.locator(".table-scroll[data-scroll-region][tabindex='0']").count()
            if role == "front_desk":  # a page the role may not open
                _audit(page, f"{base}/staff", f"a forbidden page as {role}", found, 403)
            context.close()

        # the portal, signed out then signed in: in Chinese on a phone, in English on a wide screen
        for language, viewport in zip(LANGUAGES, ({"width": 390, "height": 844}, {"width": 1280, "height": 720}),
                                      strict=True):
            pinned_clock.shift(timedelta(seconds=61))  # a new code for the same number may be asked a minute on
            context = browser.new_context(bypass_csp=True, viewport=viewport)
            page = context.new_page()
            if language == "en":
                _english(page, base, "/shop")
            where = f"({language}, {viewport['width']} px)"
            for name, path in (("the shop", "/shop"), ("a package", f"/shop/packages/{ids.package}"),
                               ("a package with a day's times", f"/shop/packages/{ids.package}?day={ids.day}"),
                               ("the unsubscribe page", f"/unsubscribe/{unsubscribe}"),
                               ("portal sign-in", "/portal/sign-in")):
                _audit(page, base + path, f"{name} {where}", found)
                audited += 1
            page.locator("input[name=mobile]").fill(me.mobile)
            page.locator("form.card button[type=submit]").click()
            page.locator("input[name=code]").wait_for()
            _audit(page, None, f"the sign-in code page {where}", found)
            page.locator("input[name=code]").fill(last_code(tenant, me.mobile))
            page.locator("form.card button[type=submit]").click()
            page.wait_for_url(re.compile(r"/portal$"))
            for name, path in (("my bookings", "/portal"), ("an order", f"/portal/orders/{ids.order}"),
                               ("a cancelled order", f"/portal/orders/{cancelled}"),
                               ("rescheduling", f"/portal/orders/{ids.order}/reschedule?day={later.isoformat()}"),
                               ("cancelling", f"/portal/orders/{ids.order}/cancel"),
                               ("booking a package", f"/shop/packages/{ids.package}/book?day={later.isoformat()}"
                                                     f"&slot=08:30"),
                               ("my results", "/portal/results"), ("my messages", "/portal/messages"),
                               ("who viewed my record", "/portal/record-access"),
                               ("signed-in devices", "/portal/sessions")):
                _audit(page, base + path, f"{name} {where}", found)
                audited += 1
            context.close()

    assert audited > 250 and focusable_boxes > 0
    rules = sorted({line.split(" ", 1)[0] for line in found})
    assert not found, (f"{len(found)} accessibility violations ({', '.join(rules)}):\n" + "\n".join(found))
