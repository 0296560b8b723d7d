"""In the system Chromium: a doctor enters an exam's results, drafts and signs the stage summary, prints the
health report (the page follows the job), checks the PDF, and releases it; the patient, on a phone (390 ×
844), reads it in the portal and downloads it, and finds the download in their access log."""
from datetime import date
from pathlib import Path

import pytest

from tests.browser import chromium, live_server, page_width, portal_sign_in, staff_sign_in
from tests.clock import clinic_today
from tests.conftest import CHROMIUM
from tests.pdfs import poppler
from tests.portal.conftest import last_code  # noqa: F401  (shared fixture)

pytestmark = [pytest.mark.browser, pytest.mark.redis]
MOBILE = "13912345601"


def test_exam_summary_report_release_and_the_patient_reads_it_on_a_phone(app, make_tenant, make_patient,
                                                                          make_staff, last_code):
    tenant = make_tenant("康宁健康管理中心")
    patient = make_patient(tenant, name="欧阳娜娜", sex="F", birth_date=date(1970, 3, 8), mobile=MOBILE)
    doctor = make_staff(tenant, "doctor")
    today = clinic_today().isoformat()
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        base = f"http://{tenant.slug}.localhost:{port}"
        page = browser.new_page()
        staff_sign_in(page, base, doctor.email)

        page.goto(f"{base}/patients/{patient.id}/records")  # the exam: results typed in as they come
        page.get_by_label("空腹血糖", exact=True).fill("7.4")
        page.get_by_label("收缩压", exact=True).fill("152")
        page.get_by_label("舒张压", exact=True).fill("96")
        page.get_by_role("button", name="保存结果").click()
        page.get_by_text("已保存 3 个数值").wait_for()

        page.goto(f"{base}/patients/{patient.id}/summaries")
        page.get_by_label("最近 12 个月").check()
        page.get_by_role("button", name="起草总结").click()
        text = page.get_by_label("总结（系统起草，请按需修改）")
        assert "空腹血糖：7.40 mmol/L（偏高）" in text.input_value()
        text.fill(text.input_value() + "\n【医生意见】\n控制饮食，三个月后复查空腹血糖。")
        page.get_by_role("button", name="签署总结").click()
        page.get_by_text("总结已签署。").wait_for()
        assert "三个月后复查空腹血糖" in page.inner_text("main")

        page.goto(f"{base}/patients/{patient.id}/reports")
        page.get_by_role("button", name=f"打印 {today} 的报告").click()
        link = page.get_by_role("link", name=f"下载 health-report-{patient.card_no}-{today}.pdf")
        link.wait_for(timeout=60_000)  # the row follows the job until its file is ready
        with page.expect_download() as got:
            link.click()
        pdf = Path(got.value.path()).read_bytes()
        words = poppler("pdftotext", pdf)
        assert "欧阳娜娜" in words and "三个月后复查空腹血糖" in words and "医生总结" in words
        assert all(" yes " in line for line in poppler("pdffonts", pdf).splitlines() if "CJK" in line)

        page.reload()
        page.get_by_role("button", name="发布给患者").click()
        page.get_by_text("已发布到患者端").wait_for()

    with live_server(app) as port, chromium(CHROMIUM, viewport={"width": 390, "height": 844}) as browser:
        base = f"http://{tenant.slug}.localhost:{port}"
        page = browser.new_page()
        page.goto(f"{base}/portal/reports")
        portal_sign_in(page, MOBILE, lambda: last_code(tenant, MOBILE))
        page.wait_for_url(f"{base}/portal/reports")
        assert page.get_by_role("heading", name="我的报告").is_visible()
        page.get_by_role("link", name="阅读报告").click()
        main = page.inner_text("main")
        assert "高于参考区间（< 6.10 mmol/L）的上限" in main and "三个月后复查空腹血糖" in main
        assert page_width(page) <= 390
        with page.expect_download() as got:
            page.get_by_role("link", name="下载报告（PDF）").click()
        assert "欧阳娜娜" in poppler("pdftotext", Path(got.value.path()).read_bytes())
        page.goto(f"{base}/portal/record-access")
        assert "在患者端下载了自己的健康报告" in page.inner_text("main")
        page.goto(f"{base}/portal/results")
        assert "7.40" in page.inner_text("main")  # the report's day of results went out with it
