"""The SVG trend chart: valid markup, band, markers, accessibility, edge cases, and a real rendering."""
import base64
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from app.records.charts import LEFT, RIGHT, WIDTH, ChartPoint, nice_ticks, summary, trend_svg

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"


def _glucose():
    return [ChartPoint(date(2019, 3, 1), 5.4, False), ChartPoint(date(2020, 3, 5), 5.9, False),
            ChartPoint(date(2021, 4, 2), 6.4, True, direction="H"),
            ChartPoint(date(2022, 3, 9), 3.5, True, direction="L"),
            ChartPoint(date(2024, 3, 1), 6.8, True, direction="H")]


def _chart(points, **kwargs):
    options = dict(title="空腹血糖", unit="mmol/L", ref_low=3.9, ref_high=6.1)
    options.update(kwargs)
    svg = trend_svg(points, **options)
    return svg, ET.fromstring(svg)


def _markers(root):
    return [e for e in root.iter() if "marker" in (e.get("class") or "").split()]


def _texts(root):
    return [e.text for e in root.iter(f"{SVG}text")]


def _band(root):
    return [e for e in root.iter(f"{SVG}rect") if e.get("class") == "band"]


def test_plain_svg_with_title_and_aria_label():
    svg, root = _chart(_glucose(), locale="en")
    assert root.tag == f"{SVG}svg" and root.get("version") == "1.1" and root.get("role") == "img"
    assert root.get("aria-label") == ("空腹血糖: 5 values from 2019 to 2024, latest 6.8 mmol/L, "
                                      "2 above range, 1 below range")
    assert root.find("svg:title", NS).text == "空腹血糖"
    assert "<script" not in svg and "<style" not in svg and "href" not in svg
    fonts = {e.get("font-family") for e in root.iter(f"{SVG}text")}
    assert fonts == {"Noto Sans CJK SC, sans-serif"}


def test_chinese_summary():
    _, root = _chart(_glucose())
    assert root.get("aria-label") == "空腹血糖：2019至2024年共5个数值，最近一次6.8 mmol/L，2个高于范围，1个低于范围"
    assert "空腹血糖（mmol/L）" in _texts(root) and "参考范围" in _texts(root)


def test_band_spans_the_reference_range():
    _, root = _chart(_glucose())
    (band,) = _band(root)
    top, height = float(band.get("y")), float(band.get("height"))
    assert height > 20
    assert "3.9" in _texts(root) and "6.1" in _texts(root)  # the band's edges are written beside it
    # the band lies between the y positions of 6.1 and 3.9: 6.4 (above) is drawn above its top edge
    high = next(m for m in _markers(root) if "high" in m.get("class"))
    assert max(float(p.split(",")[1]) for p in high.get("points").split()) < top + height


def test_no_band_without_a_range_and_open_ended_bands():
    _, root = _chart(_glucose(), ref_low=None, ref_high=None)
    assert _band(root) == []
    _, root = _chart(_glucose(), ref_low=None, ref_high=6.1)
    (band,) = _band(root)
    bottom = float(band.get("y")) + float(band.get("height"))
    grid_bottom = max(float(line.get("y1")) for line in root.iter(f"{SVG}line"))
    assert bottom == pytest.approx(grid_bottom, abs=0.2)  # open downwards: to the bottom of the plot


def test_one_marker_per_point_and_abnormal_ones_differ_in_shape():
    _, root = _chart(_glucose())
    markers = _markers(root)
    assert len(markers) == 5
    kinds = sorted(m.get("class") for m in markers)
    assert kinds == ["marker abnormal high", "marker abnormal high", "marker abnormal low", "marker normal",
                     "marker normal"]
    normal = [m for m in markers if "normal" in m.get("class").split()]
    abnormal = [m for m in markers if "abnormal" in m.get("class").split()]
    assert {m.tag for m in normal} == {f"{SVG}circle"} and {m.tag for m in abnormal} == {f"{SVG}polygon"}
    assert all(m.get("fill") == "#fff" for m in abnormal)  # hollow: shape, not colour alone
    up = next(m for m in abnormal if "high" in m.get("class"))
    down = next(m for m in abnormal if "low" in m.get("class"))
    apex_up = [tuple(map(float, p.split(","))) for p in up.get("points").split()]
    apex_down = [tuple(map(float, p.split(","))) for p in down.get("points").split()]
    assert apex_up[0][1] < apex_up[1][1] and apex_down[0][1] > apex_down[1][1]  # ▲ for high, ▼ for low
    tips = [m.find("svg:title", NS).text for m in markers]
    assert "2024-03-01 6.8 mmol/L above range" in [t.replace("高于范围", "above range") for t in tips]


def test_abnormal_without_direction_is_a_diamond_or_takes_the_side_of_the_band():
    points = [ChartPoint(date(2022, 1, 1), 5.0, True), ChartPoint(date(2023, 1, 1), 7.0, True)]
    _, root = _chart(points, locale="en")
    classes = [m.get("class") for m in sorted(_markers(root), key=lambda m: m.get("points"))]
    assert set(classes) == {"marker abnormal", "marker abnormal high"}  # 5.0 inside the band: the lab said "A"
    diamond = next(m for m in _markers(root) if m.get("class") == "marker abnormal")
    assert len(diamond.get("points").split()) == 4
    assert "1 above range, 1 abnormal" in root.get("aria-label")


def test_y_ticks_are_round_and_cover_points_and_band():
    _, root = _chart(_glucose())
    ticks = [float(e.text) for e in root.iter(f"{SVG}text") if e.get("text-anchor") == "end"]
    assert ticks == [3, 4, 5, 6, 7, 8]  # 3.5 (lowest point) to 6.8 (highest), the band 3.9-6.1 inside
    assert nice_ticks(3.2, 7.9) == [3, 4, 5, 6, 7, 8]
    assert nice_ticks(0.27, 4.2) == [0, 1, 2, 3, 4, 5]
    assert nice_ticks(121, 163) == [120, 130, 140, 150, 160, 170]
    assert nice_ticks(5.05, 5.24) == [5.05, 5.1, 5.15, 5.2, 5.25]
    assert nice_ticks(5, 5) == [5, 5.2, 5.4, 5.6, 5.8, 6]


def test_date_labels_are_years_or_months():
    _, root = _chart(_glucose())
    assert [t for t in _texts(root) if t and t.startswith("20")] == ["2019", "2020", "2021", "2022", "2024"]
    same_year = [ChartPoint(date(2023, 3, 1), 5.0, False), ChartPoint(date(2023, 9, 1), 5.2, False),
                 ChartPoint(date(2024, 3, 1), 5.1, False)]
    _, root = _chart(same_year)
    assert [t for t in _texts(root) if t and t.startswith("20")] == ["2023-03", "2023-09", "2024-03"]


def test_no_points():
    svg, root = _chart([])
    assert _markers(root) == [] and _band(root) == []
    assert "暂无数据" in _texts(root) and root.get("aria-label") == "空腹血糖：暂无数据"
    _, root = _chart([], locale="en")
    assert "No data" in _texts(root) and root.get("aria-label") == "空腹血糖: no data"


def test_one_point():
    _, root = _chart([ChartPoint(date(2024, 3, 1), 5.1, False)], ref_low=None, ref_high=5.2, locale="en")
    (marker,) = _markers(root)
    assert float(marker.get("cx")) == pytest.approx(LEFT + (WIDTH - LEFT - RIGHT) / 2)  # centred
    assert root.get("aria-label") == "空腹血糖: 1 value in 2024, latest 5.1 mmol/L, none abnormal"
    assert not list(root.iter(f"{SVG}polyline"))


def test_equal_values_get_a_sensible_axis():
    points = [ChartPoint(date(2019 + i, 3, 1), 72, False) for i in range(4)]
    _, root = _chart(points, title="心率", unit="/min", ref_low=None, ref_high=None)
    ys = {float(m.get("cy")) for m in _markers(root)}
    assert len(ys) == 1
    tick_values = [float(t) for t in _texts(root) if t and t.isdigit() and len(t) == 2]
    assert min(tick_values) <= 65 and max(tick_values) >= 79  # not a zero-height axis
    assert "心率（次/分）" in _texts(root)


def test_values_far_outside_the_band_stay_inside_the_plot():
    points = [ChartPoint(date(2020, 1, 1), 1.2, False), ChartPoint(date(2022, 1, 1), 48.0, True, direction="H"),
              ChartPoint(date(2024, 1, 1), -3.0, True, direction="L")]
    _, root = _chart(points, title="甘油三酯", ref_low=0.5, ref_high=1.7)
    lines = [float(line.get("y1")) for line in root.iter(f"{SVG}line")]
    top, bottom = min(lines), max(lines)
    for marker in _markers(root):
        ys = [float(p.split(",")[1]) for p in marker.get("points", "").split()] or [float(marker.get("cy"))]
        centre = (max(ys) + min(ys)) / 2
        assert top - 1 <= centre <= bottom + 1
    (band,) = _band(root)
    assert float(band.get("height")) >= 0.5


def test_text_is_escaped():
    points = [ChartPoint(date(2024, 1, 1), 1.0, False, label='<b>"A&B"</b>')]
    svg, root = _chart(points, title='HbA1c <script>&"', unit="%<")
    assert "<script>" not in svg
    assert root.find("svg:title", NS).text == 'HbA1c <script>&"'
    assert root.get("aria-label").startswith('HbA1c <script>&"')
    assert '<b>"A&B"</b>' in _markers(root)[0].find("svg:title", NS).text


def test_summary_counts_directions_and_sorts():
    points = list(reversed(_glucose()))
    assert summary(points, "FPG", "mmol/L", 3.9, 6.1, "en").startswith("FPG: 5 values from 2019 to 2024, latest 6.8")


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs pdftoppm (poppler-utils)")
def test_renders_through_weasyprint(tmp_path):
    weasyprint = pytest.importorskip("weasyprint")
    svg, _ = _chart(_glucose())
    data = base64.b64encode(svg.encode()).decode()
    html = f'<img style="width:640px" src="data:image/svg+xml;base64,{data}">'
    pdf = tmp_path / "chart.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf, stylesheets=[weasyprint.CSS(string="@page{size:660px 240px;margin:0}")])
    subprocess.run(["pdftoppm", "-png", "-r", "96", "-singlefile", str(pdf), str(tmp_path / "chart")], check=True)
    png = (tmp_path / "chart.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000  # drawn, not blank
