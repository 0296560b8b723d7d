"""The whole loop in the system Chromium: a doctor imports a patient's exam report, reads the risk
assessments with their reasons and what-if values, releases advice and starts an intervention plan; the
patient records a home blood pressure in the portal on a phone (390 × 844); the doctor sees it on the
plan's progress chart."""
from datetime import date, timedelta

import pytest

from app.patients import services as patients
from tenants.context import tenant_context
from tenants.db import db
from tests.browser import chromium, live_server, page_width, portal_sign_in, staff_sign_in
from tests.clock import clinic_today
from tests.conftest import CHROMIUM
from tests.interventions.helpers import MOBILE
from tests.records.test_pages import oru

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def _report(card_no: str) -> str:
    """A check-up ten days ago: lipids, blood pressure, height, weight and waist (the header's man born
    1970-01-01 is the patient)."""
    when = (clinic_today() - timedelta(days=10)).strftime("%Y%m%d")
    return oru(card_no, when, [("14647-2", "6.2", "mmol/L", "H"), ("14646-4", "1.0", "mmol/L", ""),
                               ("8480-6", "152", "mm[Hg]", "H"), ("8462-4", "96", "mm[Hg]", "H"),
                               ("8302-2", "170", "cm", ""), ("29463-7", "80", "kg", ""),
                               ("8280-0", "93", "cm", "")], "J" + when)


def test_report_to_risk_to_advice_to_plan_to_a_home_reading(app, make_tenant, make_patient, make_staff, last_code,
                                                            tmp_path):
    tenant = make_tenant("康宁健康管理中心")
    doctor = make_staff(tenant, "doctor")
    person = make_patient(tenant, name="张明华", sex="M", birth_date=date(1970, 1, 1), mobile=MOBILE)
    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(person.id)
        patients.set_lifestyle(patient, smoking="current", alcohol="none", exercise="")
        patients.add_history(patient, kind="illness", description="脂肪肝", since_year=2019)  # history taken
        db.session.commit()
    report = tmp_path / "checkup.hl7"
    report.write_text(_report(person.card_no))

    with live_server(app) as port:
        base = f"http://{tenant.slug}.localhost:{port}"
        with chromium(CHROMIUM) as browser:
            page = browser.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            staff_sign_in(page, base, doctor.email)
            page.goto(f"{base}/patients/{person.id}/records")
            page.get_by_label("报告文件（HL7 v2、FHIR JSON、CSV 或 XLSX）").set_input_files(str(report))
            page.get_by_role("button", name="导入", exact=True).click()
            page.get_by_role("status").wait_for()

            page.goto(f"{base}/patients/{person.id}")
            risk = page.locator("#risk")
            risk.get_by_role("heading", name="风险评估").wait_for()
            framingham = risk.locator("article", has_text="Framingham")
            text = framingham.inner_text()
            assert "%" in text and "吸烟" in text and "因素" in text  # the result, its factors
            assert "达到目标时" in text and "收缩压降至 120" in text  # what-if at target
            assert "超重" in risk.inner_text()  # BMI 27.7 from the imported height and weight

            advice = page.locator("#advice")
            advice.get_by_role("button", name="从建议库生成草稿").click()
            advice.locator("#advice-draft").wait_for()
            advice.get_by_role("button", name="发布给患者").click()
            advice.get_by_text("已发布：患者可在患者端查看，并已收到通知。").wait_for()

            page.locator("#care-plans").get_by_role("link", name="高血压健康干预").click()
            page.wait_for_url("**/plans/new/hypertension")
            page.select_option("#responsible", label=page.locator("#responsible option").nth(1).inner_text())
            page.get_by_role("button", name="开始计划").click()
            page.wait_for_url("**/plans/*")
            plan_url = page.url
            assert "152" in page.locator("figure.chart svg").first.inner_html()  # the baseline from the report

        with chromium(CHROMIUM, viewport={"width": 390, "height": 844}) as phone:
            page = phone.new_page()
            page.goto(f"{base}/portal/plans")
            portal_sign_in(page, MOBILE, lambda: last_code(tenant, MOBILE))
            page.wait_for_url(f"{base}/portal/plans")
            page.get_by_label("高压（收缩压）").fill("128")
            page.get_by_label("低压（舒张压）").fill("82")
            page.get_by_role("button", name="保存测量值").click()
            page.wait_for_url(f"{base}/portal/plans#reading")
            assert "自测" in page.content()
            assert page_width(page) <= 390
            page.goto(f"{base}/portal/advice")
            assert "戒烟" in page.locator("#advice-sheet").inner_text()  # the released sheet: stop smoking
            assert page_width(page) <= 390

        with chromium(CHROMIUM) as browser:
            page = browser.new_page()
            staff_sign_in(page, base, doctor.email)
            page.goto(plan_url)
            chart = page.locator("figure.chart svg").first
            assert "128" in chart.inner_html() and "152" in chart.inner_html()
