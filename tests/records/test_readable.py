"""Results as people read them: units as printed (mmHg, μmol/L, 次/分) while UCUM stays in the data, flags
in words in every view, values at the indicator's decimals, systolic and diastolic pressure in one chart,
and the allergy banner at the top of the patient page."""
import io
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from sqlalchemy import select

from app.records import units
from app.records.charts import LINE, SECOND, ChartPoint, Series, combined_svg
from app.records.models import Observation
from tenants.context import tenant_context
from tenants.db import db
from tests.records.test_pages import oru

SVG = "{http://www.w3.org/2000/svg}"


def test_units_are_shown_as_people_write_them():
    shown = {"mm[Hg]": "mmHg", "umol/L": "μmol/L", "mL/min/{1.73_m2}": "mL/min/1.73 m²", "m[IU]/L": "mIU/L",
             "10*9/L": "×10⁹/L", "10*12/L": "×10¹²/L", "kg/m2": "kg/m²", "ug/L": "μg/L", "mmol/L": "mmol/L",
             "g/L": "g/L", "%": "%", "": ""}
    for ucum, people in shown.items():
        assert units.display(ucum) == people
    assert units.display("/min") == "次/分" and units.display("/min", "zh_CN") == "次/分"
    assert units.display("/min", "en") == "/min" and units.display("{beats}/min", "en") == "bpm"
    assert units.display(None) == "" and units.display("some/unit") == "some/unit"  # unknown: as it is


def test_values_are_rounded_to_the_indicators_decimals():
    assert units.number(168.80253764416227, 1) == "168.8"
    assert units.number(79.56, 0) == "80" and units.number(5.0, 2) == "5.00"
    assert units.number(2.675, 2) == "2.68" and units.number(0.125, 2) == "0.13"  # half up, as people round
    assert units.number(None, 1) == "" and units.number(-0.04, 1) == "0"


def test_flags_in_words(app):
    from app.records import labels

    with app.test_request_context():  # the clinic's language, zh_CN
        assert [labels.flag_words(f) for f in ("H", "L", "HH", "LL", "A", "N", "", None)] == [
            "偏高", "偏低", "危急偏高", "危急偏低", "异常", "", "", ""]
        assert labels.alert_summary("收缩压 150 mm[Hg] (H)") == "收缩压 150 mmHg（偏高）"
        assert labels.alert_summary("血钾 6.8 mmol/L (HH)") == "血钾 6.8 mmol/L（危急偏高）"


def _bp(year: int, systolic: float, diastolic: float) -> ChartPoint:
    return [ChartPoint(date(year, 5, 1), systolic, systolic >= 140, direction="H" if systolic >= 140 else ""),
            ChartPoint(date(year, 5, 1), diastolic, diastolic >= 90, direction="H" if diastolic >= 90 else "")]


def test_blood_pressure_chart_has_two_series_both_limits_and_a_legend_in_words():
    days = [_bp(2022, 128, 82), _bp(2023, 136, 86), _bp(2024, 152, 94)]
    systolic = Series("收缩压", [d[0] for d in days], None, 140, LINE, "circle")
    diastolic = Series("舒张压", [d[1] for d in days], None, 90, SECOND, "square")
    root = ET.fromstring(combined_svg([systolic, diastolic], title="血压", unit="mm[Hg]", decimals=0))
    lines = [e for e in root.iter(f"{SVG}polyline") if e.get("class") == "series"]
    assert len(lines) == 2 and {e.get("stroke") for e in lines} == {LINE, SECOND}
    limits = [e for e in root.iter(f"{SVG}line") if e.get("class") == "limit"]
    assert len(limits) == 2
    texts = [e.text for e in root.iter(f"{SVG}text")]
    assert "收缩压" in texts and "舒张压" in texts and "血压（mmHg）" in texts  # legend and unit in words
    assert "140" in texts and "90" in texts  # both reference limits written
    label = root.get("aria-label")
    assert label.startswith("血压：收缩压") and "；舒张压" in label and "最近一次152 mmHg" in label
    assert [t for t in texts if t and t.startswith("20")] == ["2022", "2023", "2024"]  # one label a checkup
    markers = [e for e in root.iter() if "marker" in (e.get("class") or "")]
    assert len(markers) == 6 and sum("abnormal" in e.get("class") for e in markers) == 2


def _file(text: str):
    return io.BytesIO(text.encode())


@pytest.fixture
def checked(app, make_tenant, make_patient, client_for):
    """A patient with two checkups: blood pressure high in the second, a height in metres (168.8025… cm),
    a creatinine in mg/dL (79.56 μmol/L) and a pulse."""
    tenant = make_tenant()
    patient = make_patient(tenant, name="欧阳明")
    client = client_for(tenant, tenant.owner_email)
    messages = (oru(patient.card_no, "20230510", [("8480-6", "128", "mm[Hg]", ""), ("8462-4", "82", "mm[Hg]", ""),
                                                   ("8302-2", "1.688025376", "m", ""), ("8867-4", "72", "/min", "")],
                    "R2023")
                + oru(patient.card_no, "20240510", [("8480-6", "152", "mm[Hg]", "H"), ("8462-4", "95", "mm[Hg]", "H"),
                                                     ("14682-9", "0.9", "mg/dL", ""), ("8867-4", "76", "/min", "")],
                      "R2024"))
    upload = client.submit(f"/patients/{patient.id}/import", {"file": (_file(messages), "checkups.hl7")},
                           content_type="multipart/form-data")
    assert upload.status_code == 200, upload.get_data(as_text=True)[:800]
    return tenant, patient, client


def test_results_page_shows_units_words_and_rounded_values(app, checked):
    tenant, patient, client = checked
    with app.app_context(), tenant_context(tenant.id):  # the data keeps full precision and UCUM
        stored = {o.value_text: o for o in db.session.scalars(select(Observation).where(
            Observation.patient_id == patient.id))}
        assert stored["1.688025376"].value == pytest.approx(168.8025376)
        assert stored["152"].reported_unit == "mm[Hg]"
    page = client.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    table = page[page.index('<table class="list yoy">'):page.index("</table>")]
    assert "偏高" in table and "(H)" not in table and ">H<" not in table
    assert "168.8<" in table and "168.80" not in table  # one decimal, the indicator's
    assert ">80<" in table  # creatinine 0.9 mg/dL = 79.56 μmol/L, no decimals
    assert "mmHg" in table and "μmol/L" in table and "次/分" in table
    shown = re.sub(r'value="[^"]*"', "", page)  # what a person reads (an option's value is UCUM for the form)
    assert "mm[Hg]" not in shown and "umol/L" not in shown  # nowhere on the page, the entry form included
    charts = re.findall(r'<svg[^>]*aria-label="([^"]*)"', page)
    assert [c for c in charts if c.startswith("血压")] and not [c for c in charts if c.startswith("舒张压")]
    assert not [c for c in charts if c.startswith("收缩压")]  # systolic and diastolic: one chart
    bp = page[page.index('aria-label="血压'):]
    bp = bp[:bp.index("</svg>")]
    assert bp.count('class="series"') == 2
    client.submit("/lang/en")
    english = client.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    assert "high" in english and "/min" in english and "次/分" not in english


def test_alerts_page_and_patient_page_say_flags_in_words(app, checked):
    from app.tagging import services as tagging

    tenant, patient, client = checked
    alerts = client.get("/alerts").get_data(as_text=True)
    assert "收缩压 152 mmHg（偏高）" in alerts and "(H)" not in alerts and "mm[Hg]" not in alerts
    with app.app_context(), tenant_context(tenant.id):
        tagging.evaluate_rules(commit=True)  # the guideline rules: blood pressure in the hypertension range
        db.session.commit()
    card = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    why = card[card.index('class="tag-why"'):]
    why = why[:why.index("</details>")]
    assert "152 mmHg [偏高]" in why and "[H]" not in why


def test_allergy_banner_at_the_top_of_the_patient_page(app, make_tenant, make_patient, client_for):
    from app.patients import services as patients

    tenant = make_tenant()
    allergic, never_asked, none_known = (make_patient(tenant, name=n) for n in ("林过敏", "林未问", "林无敏"))
    with app.app_context(), tenant_context(tenant.id):
        patients.add_history(patients.get(allergic.id), kind="allergy", description="青霉素", since_year=None)
        patients.add_history(patients.get(allergic.id), kind="allergy", description="海鲜", since_year=None,
                             note="荨麻疹")
        patients.add_history(patients.get(none_known.id), kind="allergy", description="无已知过敏", since_year=None)
        db.session.commit()
    client = client_for(tenant, tenant.owner_email)
    page = client.get(f"/patients/{allergic.id}").get_data(as_text=True)
    banner = page[page.index("data-allergies"):]
    banner = banner[:banner.index("</div>")]
    assert "青霉素" in banner and "海鲜 (荨麻疹)" in banner and "过敏" in banner
    assert page.index("data-allergies") < page.index("<h2>")  # at the top, above every section
    plain = client.get(f"/patients/{never_asked.id}").get_data(as_text=True)
    assert "data-allergies" not in plain and "data-no-allergies" not in plain and "无已知过敏" not in plain
    none = client.get(f"/patients/{none_known.id}").get_data(as_text=True)
    assert "data-no-allergies" in none and "data-allergies" not in none
    # adding an allergy from the history form updates the banner too (htmx: out of band)
    added = client.submit(f"/patients/{never_asked.id}/history", {"kind": "allergy", "description": "头孢类药物"},
                          headers={"HX-Request": "true"})
    text = added.get_data(as_text=True)
    assert added.status_code == 200 and 'id="allergy-banner" hx-swap-oob="true"' in text and "头孢类药物" in text
    assert "data-allergies" in client.get(f"/patients/{never_asked.id}").get_data(as_text=True)


def test_a_critical_value_is_filled_and_said_in_words():
    from app.records.charts import trend_svg

    points = [ChartPoint(date(2023, 5, 1), 4.6, False),
              ChartPoint(date(2024, 5, 1), 6.8, True, direction="H", critical=True)]
    root = ET.fromstring(trend_svg(points, title="血钾", unit="mmol/L", ref_low=3.5, ref_high=5.3, decimals=1))
    (critical,) = [e for e in root.iter() if "critical" in (e.get("class") or "").split()]
    assert critical.get("fill") != "#fff" and "危急值" in critical.find(f"{SVG}title").text
    assert "其中1个危急值" in root.get("aria-label")
    assert "危急值" in [e.text for e in root.iter(f"{SVG}text")]  # in the legend
