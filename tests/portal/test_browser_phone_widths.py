"""In the system Chromium at phone widths (360 and 390 px), in Chinese and
English: no page of the patient portal scrolls sideways. The walk covers
every page a patient can reach: the shop, a package with its calendar and a
chosen day's times, sign-in and its code, the booking page (with a card and
without one), my bookings, an order, a cancelled order, the reschedule page,
my results (a table of eight checkups and its charts), my messages and the
unsubscribe page. The content is long on purpose: a long English package
name and description, long Chinese names, the clinic's long address and a
link in the preparation notes."""
import re
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import pytest

from tests.booking.conftest import FIRST_SLOT, open_day
from tests.browser import chromium, live_server, overflowing, page_width
from tests.conftest import CHROMIUM
from tests.notifications.conftest import drain  # noqa: F401  (shared fixture)
from tests.portal.test_my_pages import _results

pytestmark = [pytest.mark.browser, pytest.mark.redis]

MOBILE, NEW_MOBILE = "13966660360", "13966660390"
WIDTHS = (360, 390)
CLINIC = "上海浦东新区陆家嘴国际健康管理中心（滨江旗舰院区）"
PATIENT = "阿依古丽·买买提艾则孜·热合曼江"
PACKAGE = "Executive Cardiovascular-Metabolic Health Screening with Extended Tumour Markers"
DESCRIPTION = ("A thorough half-day assessment for busy professionals over forty: cardiovascular risk "
               "(ApoB/Lp(a)/hs-CRP/NT-proBNP), glucose metabolism (HbA1c/OGTT), liver and kidney function, "
               "thyroid, low-dose chest CT and an abdominal ultrasound, followed by a consultation with a "
               "physician who explains every abnormal result and agrees a follow-up plan with you.")
PREPARATION = ("体检当日请于07:30前到上海市浦东新区陆家嘴环路1288号汇亚大厦B座3楼体检中心前台登记"
               "（地铁2号线陆家嘴站1号口出，步行约8分钟）。"
               "Guide: https://www.lujiazuihealth.example.cn/guide/executive_cardiometabolic_screening_preparation.pdf")
ITEMS = ("血常规（全血细胞计数+五分类）: 718-7\n空腹血糖: 14771-0\n糖化血红蛋白HbA1c: 4548-4\n"
         "总胆固醇: 14647-2\n低密度脂蛋白胆固醇: 22748-8\n尿微量白蛋白/肌酐比值: 9318-7")


def _measure(page, width: int, language: str, too_wide: list, name: str) -> None:
    measured = page_width(page)
    if measured > width:
        too_wide.append(f"{name} ({language}) is {measured} px wide at {width} px: " + "; ".join(overflowing(page)))


def test_portal_pages_fit_phone_widths(app, make_tenant, make_patient, make_package, last_code, drain,
                                       pinned_clock):
    from app.booking import services as booking
    from app.notifications.unsubscribe import make_token
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db

    tenant = make_tenant(CLINIC)
    patient = make_patient(tenant, name=PATIENT, sex="F", mobile=MOBILE,
                           email="ayguli.mamatazizi.rahmanjan@lujiazui-health-centre.example.cn")
    package = make_package(tenant, name=PACKAGE, price="12880", description=DESCRIPTION, preparation=PREPARATION,
                           items=ITEMS, fasting=True, no_alcohol=True, age_min=18)
    make_package(tenant, name="女性全面健康体检套餐（含乳腺彩超、宫颈TCT及HPV分型检测）", price="2680", sex="F",
                 description="为女性设计的全面体检：" + "乳腺、甲状腺、妇科、骨密度、肿瘤标志物，" * 4)
    codes = [("14771-0", "mmol/L"), ("4548-4", "%"), ("14647-2", "mmol/L"), ("22748-8", "mmol/L"),
             ("9318-7", "mg/g"), ("98979-8", "mL/min/{1.73_m2}"), ("1742-6", "U/L")]
    values = [(5.1, 5.6, 6.4, 7.3, 7.0, 6.2, 5.9, 5.6), (5.4, 5.8, 6.3, 7.1, 6.8, 6.2, 5.9, 5.7),
              (4.6, 5.3, 6.1, 6.6, 5.8, 5.2, 4.9, 4.4), (2.6, 3.1, 3.7, 4.2, 3.6, 3.3, 2.9, 2.8),
              (12.0, 18.0, 35.0, 41.0, 28.0, 22.0, 19.0, 16.0), (104, 101, 97, 95, 92, 89, 88, 86),
              (22, 31, 48, 67, 52, 38, 29, 25)]
    _results(app, tenant, patient.id, [(code, f"{v}", unit, year) for (code, unit), row in zip(codes, values)
                                       for year, v in zip(range(2018, 2026), row)])
    day, later = open_day(), open_day(5)
    with app.app_context(), tenant_context(tenant.id):
        who = patients.get(patient.id)
        order = booking.book(package.id, day, FIRST_SLOT, who, idempotency_key="phone-widths-booked")
        gone = booking.book(package.id, later, FIRST_SLOT, who, idempotency_key="phone-widths-cancelled")
        booking.cancel(gone, actor_type="patient", actor_id=None)
        db.session.commit()
        order_id, cancelled_id = order.id, gone.id
        unsubscribe = make_token(SimpleNamespace(tenant_id=tenant.id, recipient_id=patient.id, channel="email",
                                                 category="marketing"))
    drain()  # the confirmation and the cancellation become messages

    too_wide = []
    with live_server(app) as port, chromium(CHROMIUM) as first:
        browser = first.browser  # a fresh context (cookies, viewport) per width and language
        base = f"http://{tenant.slug}.localhost:{port}"
        for width in WIDTHS:
            for language in ("zh_CN", "en"):
                pinned_clock.shift(timedelta(seconds=61))  # a new code for the same number may be asked a minute on
                context = browser.new_context(viewport={"width": width, "height": 800})
                page = context.new_page()

                check = partial(_measure, page, width, language, too_wide)

                page.goto(f"{base}/shop")
                if language == "en":
                    page.get_by_role("button", name="English").click()
                    page.wait_for_url(f"{base}/shop")
                check("the shop")
                page.goto(f"{base}/shop/packages/{package.id}")
                check("a package page")
                page.goto(f"{base}/shop/packages/{package.id}?day={day.isoformat()}")
                assert page.locator("label.slot").count() > 0
                check("a package page with a chosen day's times")

                page.goto(f"{base}/shop/packages/{package.id}/book?day={day.isoformat()}&slot=08:30")
                page.wait_for_url(re.compile(r"/portal/sign-in\?next="))
                check("the sign-in page")
                page.locator("input[name=mobile]").fill(MOBILE)
                page.locator("form.card button[type=submit]").click()
                page.locator("input[name=code]").wait_for()
                check("the code page")
                page.locator("input[name=code]").fill(last_code(tenant, MOBILE))
                page.locator("form.card button[type=submit]").click()
                page.wait_for_url(re.compile(r"/book\?day="))
                assert PATIENT in page.content()
                check("the booking page")

                page.goto(f"{base}/portal")
                assert page.locator("article.order").count() == 2
                check("my bookings")
                page.goto(f"{base}/portal/orders/{order_id}")
                assert page.locator("a[href$='/reschedule']").count() == 1
                check("an order's page")
                page.goto(f"{base}/portal/orders/{cancelled_id}")
                check("a cancelled order's page")
                page.goto(f"{base}/portal/orders/{order_id}/reschedule?day={later.isoformat()}")
                assert page.locator("label.slot").count() > 0
                check("the reschedule page with a chosen day's times")
                page.goto(f"{base}/portal/results")
                assert page.locator("figure.chart svg").count() == len(codes)
                check("my results")
                page.goto(f"{base}/portal/results?group=lipids")
                check("my results, one group")
                page.goto(f"{base}/portal/messages")
                assert page.locator(".portal-messages li").count() >= 2
                check("my messages")
                page.goto(f"{base}/unsubscribe/{unsubscribe}")
                check("the unsubscribe page")
                page.locator("main form button[type=submit]").click()
                page.locator("main [role=status]").wait_for()
                check("the unsubscribe page, done")

                page.goto(f"{base}/portal")
                page.locator(".portal-nav form button").click()  # sign out
                page.goto(f"{base}/shop/packages/{package.id}/book?day={day.isoformat()}&slot=08:30")
                page.locator("input[name=mobile]").fill(NEW_MOBILE)
                page.locator("form.card button[type=submit]").click()
                page.locator("input[name=code]").fill(last_code(tenant, NEW_MOBILE))
                page.locator("form.card button[type=submit]").click()
                page.wait_for_url(re.compile(r"/book\?day="))
                assert page.locator("input[name=id_number]").count() == 1
                check("the booking page for a number without a card (details form)")
                page.goto(f"{base}/portal/results")
                check("my results without a card")
                context.close()
    assert not too_wide, "pages scroll sideways:\n" + "\n".join(too_wide)
