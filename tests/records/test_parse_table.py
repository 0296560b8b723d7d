"""Spreadsheet exports (CSV, XLSX) -> ParsedReport: layouts, encodings, dates, values, errors."""
import io
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook

from app.records.parse_table import ColumnMapping, parse_table, read_headers, split_unit, suggest_mapping
from app.records.parsed import ParsedReport, ParseError

SAMPLES = Path(__file__).parent / "samples" / "table"
CST = timezone(timedelta(hours=8))
WIDE = ColumnMapping(card_no="体检号", name="姓名", id_number="身份证号", sex="性别", birth_date="出生日期",
                     exam_date="体检日期",
                     indicators={"收缩压": "8480-6", "空腹血糖(mmol/L)": "14771-0", "总胆固醇（mmol/L）": "14647-2",
                                 "尿蛋白": "URINE-PRO"})


def _read(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _split(items):
    reports = [i for i in items if isinstance(i, ParsedReport)]
    errors = [i for i in items if isinstance(i, ParseError)]
    assert len(reports) + len(errors) == len(items)
    return reports, errors


def _results(report):
    return {r.code: r for r in report.results}


# ------------------------------------------------------------------ wide CSV

def test_wide_gb18030_csv_with_a_title_row():
    data = _read("wide_gb18030.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GB18030, no BOM
    reports, errors = _split(parse_table(data, "2024体检.csv", WIDE))
    assert [r.label for r in reports] == ["row 3", "row 4", "row 7"]  # spreadsheet row numbers
    first = reports[0]
    assert first.source == "table" and first.source_key == "TJ2024001|2024-03-01|2024体检.csv"
    assert first.observed_at == datetime(2024, 3, 1, tzinfo=CST)
    assert first.patient.card_no == "TJ2024001" and first.patient.name == "张三" and first.patient.sex == "M"
    assert first.patient.birth_date == date(1965, 4, 12) and first.patient.id_number == "110101196504121215"
    results = _results(first)
    assert set(results) == {"8480-6", "14771-0", "14647-2", "URINE-PRO"}
    sbp, glucose, chol, protein = (results[c] for c in ("8480-6", "14771-0", "14647-2", "URINE-PRO"))
    assert (sbp.value, sbp.value_text, sbp.unit, sbp.code_system) == (138.0, "138", "", "loinc")
    assert (glucose.value, glucose.value_text, glucose.unit, glucose.flag) == (6.8, "6.8", "mmol/L", "H")  # "6.8↑"
    assert glucose.name == "空腹血糖" and glucose.position == "column 空腹血糖(mmol/L)"
    assert (chol.value, chol.value_text, chol.unit) == (5.2, "5.20", "mmol/L")  # full-width brackets
    assert (protein.value, protein.value_text, protein.code_system) == (None, "阴性", "local")


def test_wide_rows_skip_empty_cells_and_keep_text_values():
    reports, _ = _split(parse_table(_read("wide_gb18030.csv"), "a.csv", WIDE))
    li, zhao = reports[1], reports[2]
    assert li.patient.birth_date == date(1972, 3, 5) and li.patient.sex == "F"  # 19720305, 女
    assert set(_results(li)) == {"8480-6", "14771-0", "URINE-PRO"}  # 总胆固醇 empty
    assert _results(li)["URINE-PRO"].value_text == "+"
    assert zhao.observed_at.date() == date(2024, 3, 2)  # 20240302
    zhao_results = _results(zhao)
    assert "8480-6" not in zhao_results  # "未查" is no value
    assert (zhao_results["14771-0"].value, zhao_results["14771-0"].value_text) == (None, "<3.9")
    assert zhao_results["URINE-PRO"].value_text == "弱阳性"


def test_bad_rows_are_errors_and_the_others_still_parse():
    _, errors = _split(parse_table(_read("wide_gb18030.csv"), "a.csv", WIDE))
    assert [e.location for e in errors] == ["row 5, column 体检号", "row 6, column 体检日期"]
    assert "no card number, ID number or name" in errors[0].message
    assert "2024/13/01" in errors[1].message


def test_units_from_the_mapping_win_over_the_header():
    mapping = ColumnMapping.from_dict(dict(WIDE.to_dict(), units={"空腹血糖(mmol/L)": "mg/dL"}))
    reports, _ = _split(parse_table(_read("wide_gb18030.csv"), "a.csv", mapping))
    assert _results(reports[0])["14771-0"].unit == "mg/dL"


def test_suggest_mapping_from_chinese_headers():
    headers = read_headers(_read("wide_gb18030.csv"), "a.csv")
    assert headers[:3] == ["体检号", "姓名", "性别"]  # the title row above is skipped
    mapping = suggest_mapping(headers)
    assert mapping.layout == "wide"
    assert (mapping.card_no, mapping.name, mapping.id_number, mapping.sex, mapping.birth_date, mapping.exam_date) == \
        ("体检号", "姓名", "身份证号", "性别", "出生日期", "体检日期")
    assert mapping.indicators == {"收缩压": "8480-6", "舒张压": "8462-4", "空腹血糖(mmol/L)": "14771-0",
                                  "总胆固醇（mmol/L）": "14647-2", "尿蛋白": "5804-0"}  # 工作单位 is left for staff
    assert mapping.unit == ""  # "单位" in a wide sheet is not a unit column


def test_suggest_mapping_from_english_headers_and_a_custom_catalogue():
    mapping = suggest_mapping(["Card No", "Name", "ID Number", "Sex", "Date of birth", "Exam Date", "FPG", "Hb (g/L)"],
                              known={"Hb": "HB-LOCAL"})
    assert (mapping.card_no, mapping.id_number, mapping.birth_date, mapping.exam_date) == \
        ("Card No", "ID Number", "Date of birth", "Exam Date")
    assert mapping.indicators == {"Hb (g/L)": "HB-LOCAL"}


def test_mapping_round_trips_through_a_plain_dict():
    raw = WIDE.to_dict()
    assert isinstance(raw, dict) and raw["indicators"]["收缩压"] == "8480-6"
    assert ColumnMapping.from_dict(raw) == WIDE
    assert ColumnMapping.from_dict({"layout": "long", "item": "项目", "junk": 1}).item == "项目"


def test_split_unit():
    assert split_unit("空腹血糖(mmol/L)") == ("空腹血糖", "mmol/L")
    assert split_unit("心率（次/分）") == ("心率", "次/分")
    assert split_unit("收缩压(高压)") == ("收缩压(高压)", "")  # words in brackets are no unit
    assert split_unit("收缩压") == ("收缩压", "")


# ------------------------------------------------------------------ wide XLSX

def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "2024年体检"
    sheet.append(["阳光体检中心体检结果"])
    sheet.append(["卡号", "姓名", "性别", "出生日期", "检查日期", "空腹血糖(mmol/L)", "收缩压", "尿蛋白"])
    sheet.append(["C001", "张三", "男", datetime(1965, 4, 12), datetime(2024, 3, 1, 8, 30), 6.1, 142, "+"])
    sheet.append(["C002", "李四", "F", "1972年3月5日", 45352, 5.0, None, "阴性"])  # 45352: an Excel serial date
    sheet.append(["C003", "王五", "M", None, 20240302, "5.4", 118.0, None])
    sheet.append([None] * 8)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_wide_xlsx():
    mapping = suggest_mapping(read_headers(_xlsx(), "export.xlsx"))
    assert mapping.exam_date == "检查日期" and mapping.indicators == {"空腹血糖(mmol/L)": "14771-0", "收缩压": "8480-6",
                                                                   "尿蛋白": "5804-0"}
    mapping.indicators["尿蛋白"] = "URINE-PRO"  # staff map it to a local code instead
    reports, errors = _split(parse_table(_xlsx(), "export.xlsx", mapping))
    assert errors == [] and [r.label for r in reports] == ["row 3", "row 4", "row 5"]
    zhang, li, wang = reports
    assert zhang.source_key == "C001|2024-03-01|2024年体检"  # the sheet name, not the file name
    assert zhang.observed_at == datetime(2024, 3, 1, 8, 30, tzinfo=CST)
    assert zhang.patient.birth_date == date(1965, 4, 12) and zhang.patient.sex == "M"
    glucose, sbp = _results(zhang)["14771-0"], _results(zhang)["8480-6"]
    assert (glucose.value, glucose.value_text, glucose.unit) == (6.1, "6.1", "mmol/L")
    assert (sbp.value, sbp.value_text) == (142.0, "142")
    assert _results(zhang)["URINE-PRO"].value_text == "+"
    assert li.observed_at.date() == date(2024, 3, 1) and li.patient.birth_date == date(1972, 3, 5)
    assert set(_results(li)) == {"14771-0", "URINE-PRO"}
    assert wang.observed_at.date() == date(2024, 3, 2) and _results(wang)["8480-6"].value_text == "118"


# ------------------------------------------------------------------ long layout

LONG = ColumnMapping(layout="long", card_no="卡号", name="姓名", exam_date="检查日期", item="项目", value="结果",
                     unit="单位", range="参考范围", flag="提示")


def test_long_csv_groups_rows_by_patient_and_date():
    data = _read("long_utf8_bom_tabs.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    assert suggest_mapping(read_headers(data, "long.csv")) == LONG
    reports, errors = _split(parse_table(data, "long.csv", LONG))
    assert [(r.patient.card_no, r.observed_at.date().isoformat(), len(r.results)) for r in reports] == [
        ("TJ001", "2023-03-01", 3), ("TJ002", "2024-03-05", 2), ("TJ001", "2024-03-05", 1), ("TJ003", "2024-03-05", 1)]
    first = reports[0]
    assert first.label == "rows 2-4" and first.source_key == "TJ001|2023-03-01|long.csv"
    glucose, chol, protein = first.results
    assert (glucose.code, glucose.name, glucose.value, glucose.unit, glucose.flag) == \
        ("14771-0", "空腹血糖", 6.4, "mmol/L", "H")  # a catalogue name becomes its code; "↑" is H
    assert (glucose.ref_low, glucose.ref_high, glucose.ref_text, glucose.position) == (3.9, 6.1, "3.9-6.1", "row 2")
    assert (chol.ref_low, chol.ref_high, chol.ref_text) == (None, 5.2, "<5.2")
    assert (protein.code, protein.code_system, protein.value, protein.value_text, protein.ref_text) == \
        ("5804-0", "loinc", None, "阴性", "阴性")  # the pack's urine protein, by its Chinese name
    loinc, alt = reports[1].results
    assert (loinc.code, loinc.code_system, loinc.value) == ("2345-7", "loinc", 5.5)
    assert (alt.code, alt.ref_low, alt.ref_high) == ("1742-6", 9.0, 50.0)  # 尿酸 with an empty value is skipped
    later = reports[2].results[0]
    assert (later.value, later.ref_low, later.ref_high, later.ref_text, later.flag) == (7.1, 3.9, 6.1, "3.9～6.1", "H")
    assert [(e.location, e.message) for e in errors] == [("row 10, column 卡号", "no card number, ID number or name")]


def test_long_layout_uses_a_code_column_and_item_translations():
    csv_text = "姓名,日期,项目代码,项目,结果\n张三,2024-03-01,GLU,葡萄糖,5.6\n张三,2024-03-01,,甘油三酯,1.7\n"
    mapping = ColumnMapping(layout="long", name="姓名", exam_date="日期", code="项目代码", item="项目", value="结果",
                            indicators={"甘油三酯": "TG-LOCAL"})
    (report,) = parse_table(csv_text.encode(), "b.csv", mapping)
    assert [(r.code, r.name, r.value) for r in report.results] == [("GLU", "葡萄糖", 5.6),
                                                                   ("TG-LOCAL", "甘油三酯", 1.7)]


# ------------------------------------------------------------------ dates, encodings, errors

@pytest.mark.parametrize("text, expected", [
    ("2024-03-01", datetime(2024, 3, 1)), ("2024/3/1", datetime(2024, 3, 1)), ("2024年3月1日", datetime(2024, 3, 1)),
    ("20240301", datetime(2024, 3, 1)), ("2024.03.01", datetime(2024, 3, 1)),
    ("2024-03-01 09:15", datetime(2024, 3, 1, 9, 15)), ("２０２４－０３－０１", datetime(2024, 3, 1)),
])
def test_date_spellings(text, expected):
    data = f"姓名,体检日期,收缩压\n张三,{text},120\n".encode()
    (report,) = parse_table(data, "d.csv", ColumnMapping(name="姓名", exam_date="体检日期",
                                                         indicators={"收缩压": "8480-6"}))
    assert report.observed_at == expected.replace(tzinfo=CST)


@pytest.mark.parametrize("text", ["2024-02-30", "3/1/2024", "yesterday", "1850-01-01"])
def test_bad_dates(text):
    data = f"姓名,体检日期,收缩压\n张三,{text},120\n李四,2024-03-01,118\n".encode()
    items = parse_table(data, "d.csv", ColumnMapping(name="姓名", exam_date="体检日期",
                                                     indicators={"收缩压": "8480-6"}))
    assert isinstance(items[0], ParseError) and items[0].location == "row 2, column 体检日期"
    assert isinstance(items[1], ParsedReport) and items[1].patient.name == "李四"


def test_utf8_with_bom_and_comma_separated():
    data = "\ufeff身份证号,体检日期,空腹血糖\n110101196504121215,2024-03-01,5.6\n".encode("utf-8")
    (report,) = parse_table(data, "u.csv", ColumnMapping(id_number="身份证号", exam_date="体检日期",
                                                         indicators={"空腹血糖": "14771-0"}))
    assert report.patient.id_number == "110101196504121215" and report.results[0].value == 5.6
    assert report.source_key == "110101196504121215|2024-03-01|u.csv"


def test_same_patient_twice_on_one_day_gets_distinct_keys():
    data = "姓名,体检日期,收缩压\n张三,2024-03-01,120\n张三,2024-03-01,130\n".encode()
    items = parse_table(data, "t.csv", ColumnMapping(name="姓名", exam_date="体检日期",
                                                     indicators={"收缩压": "8480-6"}))
    assert [i.source_key for i in items] == ["张三|2024-03-01|t.csv", "张三|2024-03-01|t.csv#2"]


def test_renamed_column_is_one_error_naming_it_and_the_headers():
    mapping = ColumnMapping(card_no="卡号", name="姓名", exam_date="体检日期",
                            indicators={"空腹血糖(mmol/L)": "14771-0"})
    (error,) = parse_table(_read("renamed_column.csv"), "r.csv", mapping)
    assert isinstance(error, ParseError) and error.location == "file"
    assert error.message == "the file has no column 体检日期 (headers: 卡号, 姓名, 检查时间, 空腹血糖(mmol/L))"
    assert suggest_mapping(read_headers(_read("renamed_column.csv"), "r.csv")).exam_date == "检查时间"


def test_a_missing_indicator_column_is_reported_and_the_rest_is_read():
    mapping = ColumnMapping(card_no="卡号", exam_date="检查时间", indicators={"空腹血糖(mmol/L)": "14771-0",
                                                                           "收缩压": "8480-6"})
    error, report = parse_table(_read("renamed_column.csv"), "r.csv", mapping)
    assert "no column 收缩压" in error.message and "not imported" in error.message
    assert report.results[0].value == 5.6


def test_an_incomplete_mapping_is_one_error():
    (error,) = parse_table(b"a,b\n1,2\n", "x.csv", ColumnMapping(layout="long", name="a"))
    assert error.location == "column mapping"
    assert error.message == "the column mapping has no exam date column; no test name or result column (headers: a, b)"


def test_junk_is_a_file_error_even_with_a_guessed_empty_mapping():
    data = _read("junk.bin")
    (error,) = parse_table(data, "junk.csv", suggest_mapping(read_headers(data, "junk.csv")))
    assert error.location == "file" and "not a CSV or XLSX file" in error.message


@pytest.mark.parametrize("name, expected", [
    ("junk.bin", "not a CSV or XLSX file"), ("old_excel.xls", "old Excel .xls"),
])
def test_wrong_file_types(name, expected):
    (error,) = parse_table(_read(name), name, WIDE)
    assert isinstance(error, ParseError) and error.location == "file" and expected in error.message
    assert read_headers(_read(name), name) == []


def test_binary_with_nul_bytes_and_a_zip_that_is_no_workbook():
    (error,) = parse_table(b"\x00\x01\x02\x03" * 100, "x.csv", WIDE)
    assert "not a CSV or XLSX file" in error.message
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    (error,) = parse_table(buffer.getvalue(), "report.xlsx", WIDE)
    assert "not an XLSX workbook" in error.message
