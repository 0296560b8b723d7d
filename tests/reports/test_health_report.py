"""The printed health report of one exam: an RQ job renders it (WeasyPrint, Noto CJK embedded), keeps it
under the clinic's prefix and lists it on the patient's report page; prints and downloads are audited."""
import re
from datetime import date, datetime, timezone

import pytest

from app.core import jobs
from app.core.pdf import css_string, page_counter
from app.patients.models import Patient
from app.records import services as records
from tenants.context import tenant_context
from tenants.db import db
from tests.pdfs import poppler, work_off

LAST_YEAR = datetime(2025, 6, 3, 1, 30, tzinfo=timezone.utc)   # 09:30 in Beijing
THIS_YEAR = datetime(2026, 6, 2, 1, 30, tzinfo=timezone.utc)


def _two_exams(app, tenant, patient):
    """Last year everything in range; this year glucose and blood pressure high, ALT back in range from a
    lab-printed interval."""
    with app.app_context(), tenant_context(tenant.id):
        p = db.session.get(Patient, (tenant.id, patient.id))
        code = records.indicator_by_code
        for when, glucose, systolic, diastolic, alt in ((LAST_YEAR, "5.2", "128", "82", "62"),
                                                        (THIS_YEAR, "7.4", "152", "96", "35")):
            records.store_many(p, [records.Value(code("14771-0"), glucose, "mmol/L", when),
                                   records.Value(code("8480-6"), systolic, "mm[Hg]", when),
                                   records.Value(code("8462-4"), diastolic, "mm[Hg]", when),
                                   records.Value(code("1742-6"), alt, "U/L", when, ref_low=9, ref_high=50)])
        db.session.commit()


def test_page_header_strings_cannot_break_out_of_css():
    assert css_string('王"小\\明;}') == "王\\22 小\\5c 明\\3b \\7d "
    assert page_counter("第 {page} 页，共 {pages} 页") == '"第 " counter(page) " 页，共 " counter(pages) " 页"'


@pytest.mark.redis
def test_print_a_health_report_end_to_end(app, make_tenant, make_patient, make_staff, client_for):
    tenant = make_tenant("康宁健康管理中心")
    patient = make_patient(tenant, name="欧阳娜娜", sex="F", birth_date=date(1970, 3, 8))
    _two_exams(app, tenant, patient)
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)

    page = client.get(f"/patients/{patient.id}/reports").get_data(as_text=True)
    assert "2026-06-02" in page and "2025-06-03" in page and "还没有打印过报告" in page
    started = client.submit(f"/patients/{patient.id}/reports", data={"exam_date": "2026-06-02"},
                            headers={"HX-Request": "true"})
    assert started.status_code == 202, started.get_data(as_text=True)
    run_id = re.search(r'id="job-(\d+)"', started.get_data(as_text=True)).group(1)
    assert 'hx-trigger="load delay' in client.get(f"/jobs/{run_id}").get_data(as_text=True)

    work_off(app)

    done = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert f"/jobs/{run_id}/download" in done
    listed = client.get(f"/patients/{patient.id}/reports").get_data(as_text=True)
    link = re.search(rf'href="(/patients/{patient.id}/reports/\d+/download)"', listed).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert f"health-report-{patient.card_no}-2026-06-02.pdf" in download.headers["Content-Disposition"]

    text = poppler("pdftotext", download.data, "-layout")
    for expected in ("康宁健康管理中心", "欧阳娜娜", patient.card_no, "2026-06-02", "doctor user",
                     "空腹血糖", "7.40 mmol/L", "< 6.10 mmol/L", "152 mmHg", "9–50 U/L",  # the lab's own interval
                     "2025-06-03", "新出现", "已恢复正常"):
        assert expected in text, expected
    pages = text.count("\f")
    assert f"第 2 页，共 {pages} 页" in text and f"第 {pages} 页，共 {pages} 页" in text  # the cover has none
    assert text.count(f"欧阳娜娜 · 卡号 {patient.card_no}") == pages - 1
    fonts = poppler("pdffonts", download.data)
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded (subset)

    # another clinic sees nothing of it; the audit trail has the print and the download
    other = make_tenant()
    outsider = client_for(other, other.owner_email)
    assert outsider.get(f"/patients/{patient.id}/reports").status_code == 404
    assert outsider.get(link).status_code == 404
    assert f"/patients/{patient.id}/reports" in client.get(f"/patients/{patient.id}").get_data(as_text=True)
    owner = client_for(tenant, tenant.owner_email)
    owner.submit("/lang/en")
    trail = owner.get(f"/audit?patient={patient.id}").get_data(as_text=True)
    assert "Printed a health report" in trail and "Downloaded a file" in trail


@pytest.mark.redis
def test_a_day_without_results_is_refused_next_to_the_list(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, name="王小明")
    _two_exams(app, tenant, patient)
    client = client_for(tenant, tenant.owner_email)
    for typed in ("2026-06-09", "2026-13-45", ""):
        page = client.submit(f"/patients/{patient.id}/reports", data={"exam_date": typed})
        assert page.status_code == 400
        assert f"王小明 在“{typed}”没有检查结果" in page.get_data(as_text=True)
    fragment = client.submit(f"/patients/{patient.id}/reports", data={"exam_date": "2026-06-09"},
                             headers={"HX-Request": "true"})
    assert fragment.status_code == 400 and 'role="alert"' in fragment.get_data(as_text=True)
    with app.app_context(), tenant_context(tenant.id):
        assert jobs.recent_runs("health_report", patient_id=patient.id) == []  # nothing was queued


def test_report_content_in_english_with_an_interval_whose_upper_limit_is_out_of_range(app, make_tenant,
                                                                                      make_patient):
    from app.reports import content

    tenant = make_tenant()
    patient = make_patient(tenant, sex="M", birth_date=date(1960, 1, 1))
    _two_exams(app, tenant, patient)
    with app.app_context(), tenant_context(tenant.id), app.test_request_context():
        from flask_babel import force_locale

        p = db.session.get(Patient, (tenant.id, patient.id))
        records.store(p, records.Value(records.indicator_by_code("39156-5"), "26.1", "kg/m2", THIS_YEAR))
        assert content.exam_dates(p.id) == [date(2026, 6, 2), date(2025, 6, 3)]
        with force_locale("en"):
            report = content.build(p, date(2026, 6, 2), "en")
            lines = {line.name: line for group in report.groups for line in group.lines}
            bmi = lines["Body mass index"]
            assert bmi.interval == "≥ 18.5 and < 24.0 kg/m²" and bmi.flag_words == "high"
            assert bmi.meaning == "Above the upper limit of the reference interval (≥ 18.5 and < 24.0 kg/m²)."
            assert bmi.change == "" and bmi.previous == ""  # nothing to compare with
            assert lines["Fasting glucose"].change == "new"
            assert report.previous_exam == date(2025, 6, 3)
            assert report.counts == {"results": 5, "abnormal": 4, "new": 3, "persisting": 0, "resolved": 1}
            earlier = content.build(p, date(2025, 6, 3), "en")
            assert earlier.previous_exam is None and earlier.counts["abnormal"] == 1  # ALT 62 > 50
            assert not earlier.charts  # one value each up to then: nothing to draw a trend of
