"""The portal's larger-text mode, in the system Chromium at 390 px wide, in
Chinese and English: a toggle button in the top bar (reached and pressed
from the keyboard) sets a class on <html> from the server, the body text
grows by a quarter (16 to 20 px), the choice holds from page to page and
through signing in, no portal page then scrolls sideways, and pressing it
again returns the normal size. The staff pages ignore it."""
import re
from datetime import timedelta
from functools import partial

import pytest

from tests.booking.conftest import FIRST_SLOT, open_day
from tests.browser import chromium, live_server, overflowing, page_width
from tests.conftest import CHROMIUM
from tests.notifications.conftest import drain  # noqa: F401  (shared fixture)
from tests.portal.test_browser_phone_widths import CLINIC, DESCRIPTION, ITEMS, PACKAGE, PATIENT, PREPARATION
from tests.portal.test_my_pages import _results

pytestmark = [pytest.mark.browser, pytest.mark.redis]

MOBILE = "13966661250"
WIDTH = 390
LABEL = {"zh_CN": "大字体", "en": "Larger text"}


def _font_size(page) -> float:
    page.wait_for_load_state("load")  # before its stylesheet is in, any page reads the default 16 px
    return page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")


def _toggle(page, language: str) -> None:
    """Press the toggle from the keyboard: Tab to it, then Enter."""
    button = page.get_by_role("button", name=LABEL[language])
    before = button.get_attribute("aria-pressed")
    page.locator("body").focus()
    for _ in range(12):  # from the top of the page: the skip link, the clinic, the menu, then the toggle
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('text-size')"):
            break
    else:
        raise AssertionError("the text-size toggle is not reached with the Tab key")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    after = page.get_by_role("button", name=LABEL[language]).get_attribute("aria-pressed")
    assert {before, after} == {"true", "false"}, (before, after)


def _check(page, language: str, too_wide: list[str], name: str) -> None:
    """The page is in larger text and keeps to the phone's width."""
    assert _font_size(page) == 20, f"{name} ({language}) is not in larger text"
    measured = page_width(page)
    if measured > WIDTH:
        too_wide.append(f"{name} ({language}) is {measured} px wide at {WIDTH} px in larger text: "
                        + "; ".join(overflowing(page)))


def test_larger_text_on_portal_pages(app, make_tenant, make_patient, make_package, last_code, drain, pinned_clock):
    from app.booking import services as booking
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db

    tenant = make_tenant(CLINIC)
    patient = make_patient(tenant, name=PATIENT, sex="F", mobile=MOBILE,
                           email="ayguli.mamatazizi.rahmanjan@lujiazui-health-centre.example.cn")
    package = make_package(tenant, name=PACKAGE, price="12880", description=DESCRIPTION, preparation=PREPARATION,
                           items=ITEMS, fasting=True, no_alcohol=True, age_min=18)
    _results(app, tenant, patient.id, [(code, f"{v}", unit, year)
                                       for code, unit, row in (("14771-0", "mmol/L", (5.1, 6.4, 7.3, 5.9)),
                                                               ("98979-8", "mL/min/{1.73_m2}", (104, 97, 92, 86)))
                                       for year, v in zip(range(2022, 2026), row)])
    day, later = open_day(), open_day(5)
    with app.app_context(), tenant_context(tenant.id):
        order = booking.book(package.id, day, FIRST_SLOT, patients.get(patient.id), idempotency_key="larger-text")
        db.session.commit()
        order_id = order.id
    drain()

    too_wide = []
    with live_server(app) as port, chromium(CHROMIUM) as first:
        browser = first.browser
        base = f"http://{tenant.slug}.localhost:{port}"
        for language in ("zh_CN", "en"):
            pinned_clock.shift(timedelta(seconds=61))  # a new code for the same number may be asked a minute on
            context = browser.new_context(viewport={"width": WIDTH, "height": 800})
            page = context.new_page()
            page.goto(f"{base}/shop")
            if language == "en":
                page.get_by_role("button", name="English").click()
                page.wait_for_url(f"{base}/shop")
            assert _font_size(page) == 16
            assert page.locator("html.text-large").count() == 0
            _toggle(page, language)
            page.wait_for_url(f"{base}/shop")  # back where it was pressed
            assert page.locator("html.text-large").count() == 1
            assert _font_size(page) == 20
            assert page.get_by_role("button", name=LABEL[language]).get_attribute("aria-pressed") == "true"

            check = partial(_check, page, language, too_wide)
            check("the shop")
            page.goto(f"{base}/shop/packages/{package.id}?day={day.isoformat()}")
            assert page.locator("label.slot").count() > 0
            check("a package with a chosen day's times")
            page.goto(f"{base}/portal/results")
            page.wait_for_url(re.compile(r"/portal/sign-in\?next="))
            check("the sign-in page")
            page.locator("input[name=mobile]").fill(MOBILE)
            page.locator("form.card button[type=submit]").click()
            page.locator("input[name=code]").wait_for()
            check("the code page")
            page.locator("input[name=code]").fill(last_code(tenant, MOBILE))
            page.locator("form.card button[type=submit]").click()
            page.wait_for_url(f"{base}/portal/results")  # signing in keeps the choice
            assert page.locator("figure.chart svg").count() == 2
            check("my results")
            for name, path in (("my bookings", "/portal"), ("an order", f"/portal/orders/{order_id}"),
                               ("rescheduling", f"/portal/orders/{order_id}/reschedule?day={later.isoformat()}"),
                               ("my messages", "/portal/messages"), ("who viewed my record", "/portal/record-access"),
                               ("signed-in devices", "/portal/sessions")):
                page.goto(base + path)
                check(name)

            page.goto(f"{base}/login")  # a staff page: the normal size, no toggle
            assert _font_size(page) == 16 and page.locator(".text-size").count() == 0

            page.goto(f"{base}/portal")
            _toggle(page, language)
            page.wait_for_url(f"{base}/portal")
            assert page.locator("html.text-large").count() == 0 and _font_size(page) == 16
            page.goto(f"{base}/portal/results")
            assert _font_size(page) == 16
            context.close()
    assert not too_wide, "portal pages scroll sideways in larger text:\n" + "\n".join(too_wide)
