"""In the system Chromium: upload an exam report on the patient's results page,
then see its values flagged in the year-by-year table and drawn in the charts."""
import pytest

from tests.browser import chromium, live_server, smallest_chart_text, staff_sign_in
from tests.conftest import CHROMIUM
from tests.records.test_pages import oru

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_upload_a_report_and_see_it_flagged_and_charted(app, make_tenant, make_patient, tmp_path):
    tenant = make_tenant()
    patient = make_patient(tenant, name="上官婉儿", sex="F")
    report = tmp_path / "checkups.hl7"
    report.write_text(oru(patient.card_no, "20230415", [("14771-0", "5.4", "mmol/L", "")], "C2023")
                      + oru(patient.card_no, "20240415", [("14771-0", "7.9", "mmol/L", "H"),
                                                          ("2093-3", "4.1", "mmol/L", "")], "C2024"))
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        staff_sign_in(page, base, tenant.owner_email)
        page.get_by_role("button", name="English").click()

        page.goto(f"{base}/patients/{patient.id}")
        page.get_by_role("link", name="Results and trends").click()
        page.wait_for_url(f"{base}/patients/{patient.id}/records")
        page.get_by_label("Report file (HL7 v2, FHIR JSON, CSV or XLSX)").set_input_files(str(report))
        page.get_by_role("button", name="Import", exact=True).click()
        assert "Imported 2 reports (3 results)" in page.get_by_role("status").inner_text()
        page.get_by_role("link", name="Back to the results of 上官婉儿").click()

        row = page.get_by_role("row", name="Fasting glucose")
        cells = row.get_by_role("cell")
        assert cells.nth(0).inner_text().strip().startswith("5.4")
        flagged = cells.nth(1).inner_text()
        assert "7.9" in flagged and "high" in flagged and "new" in flagged
        chart = page.get_by_role("img", name="Fasting glucose: 2 values from 2023 to 2024")
        assert "1 above range" in chart.get_attribute("aria-label")
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150
        assert chart.locator("polygon.abnormal").count() == 1
        smallest = smallest_chart_text(page)  # axis, legend and values at 11 px or more at 100% zoom
        assert smallest["size"] >= 11 and smallest["height"] >= 11, smallest
        axis = chart.locator("text.axis").first
        assert float(axis.evaluate("t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a")) >= 11
        page.get_by_role("link", name="Lipids").click()
        page.wait_for_url("**group=lipids")
        assert page.get_by_role("img", name="Fasting glucose").count() == 0
        assert page.get_by_role("img", name="Total cholesterol").count() == 1


def test_a_code_the_clinic_did_not_know_waits_and_mapping_it_stores_the_result(app, make_tenant, make_patient,
                                                                                tmp_path):
    tenant = make_tenant()
    patient = make_patient(tenant, name="上官婉儿", sex="F")
    report = tmp_path / "lipids.hl7"
    report.write_text(oru(patient.card_no, "20240415", [("14647-2", "5.0", "mmol/L", "")], "L2024")
                      + "OBX|2|NM|TG01^甘油三酯^L||2.6|||H|||F|||20240415083000\r")
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        staff_sign_in(page, base, tenant.owner_email)
        page.get_by_role("button", name="English").click()

        page.goto(f"{base}/patients/{patient.id}/records")
        page.get_by_label("Report file (HL7 v2, FHIR JSON, CSV or XLSX)").set_input_files(str(report))
        page.get_by_role("button", name="Import", exact=True).click()
        status = page.get_by_role("status").inner_text()
        assert "Imported 1 report (1 result)" in status and "1 result waits on the lab codes page" in status
        assert "TG01 (甘油三酯, unknown code)" in status
        page.get_by_role("link", name="Map the waiting codes").click()

        waiting = page.get_by_role("row", name="TG01")
        assert "unknown code" in waiting.inner_text()
        waiting.get_by_role("link", name="Map").click()
        assert page.get_by_label("Lab's code or test name").input_value() == "TG01"
        page.get_by_label("Catalogue indicator").select_option(label="Triglycerides (14927-8, mmol/L)")
        page.get_by_label("Unit the lab reports in").fill("mmol/L")
        page.get_by_role("button", name="Save").click()
        assert "1 waiting result stored." in page.content()
        assert page.get_by_text("No results are waiting.").count() == 1

        page.goto(f"{base}/patients/{patient.id}/records")
        row = page.get_by_role("row", name="Triglycerides")
        assert "2.6" in row.inner_text() and "high" in row.inner_text()
