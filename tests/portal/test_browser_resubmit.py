"""In the system Chromium at phone size, in Chinese, as the issue tells it:
book, press Back, press 预约 again. One booking, and the page says it
exists already and shows it."""
import re

import pytest
from sqlalchemy import func, select

from app.booking.models import Order
from app.booking.orders import HOLDING
from tests.booking.conftest import open_day
from tests.browser import chromium, live_server, page_width
from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.redis]
MOBILE = "13966667777"


def test_back_and_book_again_keeps_one_booking(app, make_tenant, make_patient, make_package, last_code, as_tenant):
    tenant = make_tenant()
    make_patient(tenant, name="林小雨", sex="F", mobile=MOBILE)
    package = make_package(tenant, name="白领体检套餐", price="688")
    day = open_day()
    with live_server(app) as port, chromium(CHROMIUM, viewport={"width": 390, "height": 844}) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        page.goto(f"{base}/shop/packages/{package.id}")
        if page.locator(f'a[href*="day={day.isoformat()}"]').count() == 0:
            page.get_by_role("link", name=re.compile("下个月")).click()
        page.locator(f'a[href*="day={day.isoformat()}"]').click()
        page.get_by_role("radio", name=re.compile(r"^07:30")).check()
        page.get_by_role("button", name="继续").click()
        page.get_by_label("手机号").fill(MOBILE)
        page.get_by_role("button", name="发送验证码").click()
        page.get_by_label("短信中的 6 位验证码").fill(last_code(tenant, MOBILE))
        page.get_by_role("button", name="登录").click()
        page.get_by_role("button", name="预约", exact=True).click()
        page.wait_for_url(f"{base}/portal/orders/*")
        order_url = page.url
        assert "预约成功：白领体检套餐" in page.get_by_role("status").first.inner_text()

        page.go_back()  # the confirmation page again, fetched anew: a new form
        page.wait_for_url(f"{base}/shop/packages/{package.id}/book*")
        assert "您已预约" in page.get_by_role("status").first.inner_text()
        page.get_by_role("button", name="预约", exact=True).click()
        page.wait_for_url(order_url)
        said = page.get_by_role("status").first.inner_text()
        assert "已预约过" in said and "白领体检套餐" in said and "没有新增预约" in said, said
        assert "07:30" in page.content() and "白领体检套餐" in page.locator("h1").inner_text()
        assert page_width(page) <= 390
    with as_tenant(tenant):
        from tenants.db import db

        assert db.session.scalar(select(func.count()).select_from(Order).where(Order.status.in_(HOLDING))) == 1
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
