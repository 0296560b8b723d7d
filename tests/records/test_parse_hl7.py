"""HL7 v2 ORU^R01 parser: public sample messages (see samples/README.md) and our own."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.records import parsed
from app.records.parse_hl7 import (
    ack_for,
    build_ack,
    normalise_flag,
    parse_hl7,
    parse_message,
    parse_ref_range,
    parse_ts,
    split_messages,
)
from app.records.parsed import ParsedReport, ParseError

SAMPLES = Path(__file__).parent / "samples" / "hl7"
CST = ZoneInfo("Asia/Shanghai")  # outside a clinic, times without an offset are in the default zone


def load(name: str) -> list:
    return parse_hl7((SAMPLES / name).read_bytes())


def only_report(entries: list) -> ParsedReport:
    assert len(entries) == 1 and isinstance(entries[0], ParsedReport), entries
    return entries[0]


def by_code(report: ParsedReport) -> dict:
    return {r.code: r for r in report.results}


# ---------------------------------------------------------------- public samples

def test_nist_lead_sample_v251():
    report = only_report(load("nist_ORU_R01_2.5.1_SampleTestCase1.hl7"))
    assert report.source == "hl7"
    assert report.label == "message 1 (MSH-10 NIST-100929110701660)"
    assert report.source_key == "EHR Facility|filler:9700123"
    assert report.sender == "EHR Facility" and report.title == "Lead BldC-mCnc"
    assert report.patient.card_no == "9817566735" and report.patient.name == "Philip Johnson"
    assert report.patient.birth_date == date(2007, 5, 26) and report.patient.sex == "M"
    assert report.patient.mobile == "3035548889"  # XTN area code + local number
    assert report.observed_at == datetime(2008, 8, 15, 10, 30, tzinfo=timezone(timedelta(hours=-7)))
    [lead] = report.results
    assert (lead.code, lead.code_system, lead.name) == ("10368-9", "loinc", "Lead BldC-mCnc")
    assert (lead.value_text, lead.value, lead.unit, lead.flag, lead.status) == ("50", 50.0, "ug/dL", "H", parsed.FINAL)
    # a range with prose after it is kept as text, not guessed at
    assert lead.ref_text == "<9 mcg/dL:  Acceptable background lead exposure"
    assert lead.ref_low is None and lead.ref_high is None
    assert lead.position == "OBX 1"


def test_cerner_lead_sample_spm_before_obx_and_odd_range():
    report = only_report(load("cerner_lead.hl7"))
    assert report.source_key == "Baseline West MC|filler:2010273000015"
    assert report.patient.card_no == "9339683996" and report.patient.name == "Paul Miller"
    assert report.patient.birth_date == date(2005, 7, 15)  # PID-7 sent with a time of day
    assert report.observed_at == datetime(2010, 11, 4, 16, 40, tzinfo=CST)  # no offset: China Standard Time
    [lead] = report.results
    assert (lead.code, lead.value, lead.unit, lead.flag) == ("10368-9", 50.0, "ug/dL", "H")
    assert lead.ref_text == "^^10.000000" and lead.ref_high is None


def test_an_impossible_birth_date_is_a_warning_and_the_results_stay():
    """python-hl7's sample sends PID-7 196203520: not needed when the card number matches."""
    report = only_report(load("python-hl7_sample.hl7"))
    assert report.patient.birth_date is None and len(report.results) == 2
    [warning] = report.warnings
    assert "segment PID, field PID-7" in warning and "196203520" in warning


def test_python_hl7_sample_with_a_real_birth_date():
    data = (SAMPLES / "python-hl7_sample.hl7").read_bytes().replace(b"|196203520|", b"|19620320|")
    report = only_report(parse_hl7(data))
    assert report.patient.name == "EVE EVERYWOMAN" and report.patient.card_no == "555-44-4444"
    assert report.patient.birth_date == date(1962, 3, 20) and report.patient.mobile == "(206)3345232"
    assert report.source_key == "ELAB-3|filler:1045813" and report.title == "GLUCOSE"
    sn, fn = report.results
    assert (sn.code, sn.value_text, sn.value, sn.unit, sn.flag) == ("1554-5", "182", 182.0, "mg/dl", "H")
    assert (sn.ref_low, sn.ref_high, sn.ref_text) == (70.0, 105.0, "70_105")
    assert sn.code_system == "local"  # OBX-3.3 holds a LOINC long name, not "LN"
    assert (fn.code, fn.value_text, fn.value) == ("1553-5", "^182", None)  # "FN" is no HL7 type: kept as sent


def test_athena_message_without_results():
    [error] = load("athena_oru_example.hl7")
    assert error.location == "message 1 (MSH-10 20087.3)"
    assert "no OBX" in error.message


def test_chinese_lab_mllp_two_messages_three_reports():
    entries = load("cn_lab_mllp_utf8.hl7")
    assert [type(e) for e in entries] == [ParsedReport] * 3
    lipids, chemistry, hba1c = entries
    assert lipids.label == "message 1 (MSH-10 CL20240305001), OBR 1"
    assert chemistry.label == "message 1 (MSH-10 CL20240305001), OBR 2"
    assert hba1c.label == "message 2 (MSH-10 CL20240306002)"
    assert lipids.source_key == "SZYY-LAB|filler:LAB2024030500123"
    assert chemistry.source_key == "SZYY-LAB|filler:LAB2024030500124"
    assert (lipids.title, chemistry.title) == ("血脂四项", "生化组合")
    patient = lipids.patient
    assert (patient.card_no, patient.id_number, patient.name) == ("C0012345", "110101199003071234", "张三")
    assert (patient.birth_date, patient.sex, patient.mobile) == (date(1990, 3, 7), "M", "13800138000")
    assert lipids.observed_at == datetime(2024, 3, 5, 8, 30, tzinfo=timezone(timedelta(hours=8)))


def test_chinese_lab_values_ranges_flags_statuses():
    lipids, chemistry, _ = load("cn_lab_mllp_utf8.hl7")
    tc, tg, hdl, ldl = lipids.results
    assert (tc.code, tc.code_system, tc.name, tc.value, tc.unit) == ("14647-2", "loinc", "总胆固醇", 6.12, "mmol/L")
    assert (tc.ref_low, tc.ref_high, tc.ref_text, tc.flag) == (3.1, 5.2, "3.1-5.2", "H")
    assert tc.observed_at == datetime(2024, 3, 5, 10, 15, tzinfo=CST)
    assert (tg.ref_low, tg.ref_high, tg.ref_text, tg.flag) == (None, 1.7, "<1.7", "N")
    assert (hdl.ref_low, hdl.ref_high, hdl.flag, hdl.status) == (1.0, None, "L", parsed.CORRECTED)
    assert ldl.status == parsed.PRELIMINARY and ldl.observed_at == lipids.observed_at
    rows = by_code(chemistry)
    glu = rows["GLU"]
    assert (glu.code_system, glu.value, glu.ref_low, glu.ref_high, glu.ref_text, glu.flag) == (
        "local", 7.8, 3.9, 6.1, "3.9~6.1", "HH")
    assert (rows["UPRO"].value_text, rows["UPRO"].value, rows["UPRO"].ref_text) == ("阴性", None, "阴性")
    assert (rows["CRP"].value_text, rows["CRP"].value, rows["CRP"].ref_low) == ("<5.0", None, 0.0)  # NM "<5.0"
    assert (rows["HCY"].value_text, rows["HCY"].value, rows["HCY"].flag) == ("<5.0", None, "L")   # SN "<^5.0"
    assert (rows["FER"].value_text, rows["FER"].value) == ("85.2", 85.2)                          # SN "^85.2"
    assert (rows["TSH"].value_text, rows["TSH"].value, rows["TSH"].flag) == ("2.35", 2.35, "")    # SN "=^2.35"
    assert (rows["HBSAG"].value_text, rows["HBSAG"].flag, rows["HBSAG"].status) == ("阴性", "A", parsed.CANCELLED)
    assert rows["NOTE"].value_text == "标本轻度溶血\n结果仅供参考" and rows["NOTE"].value is None
    assert [r.position for r in chemistry.results][:2] == ["OBX 5", "OBX 6"]


def test_resident_id_recognised_by_shape_and_offset_kept():
    *_, hba1c = load("cn_lab_mllp_utf8.hl7")
    assert hba1c.patient.card_no == "C0099887"
    assert hba1c.patient.id_number == "44030519850615123X"  # lower-case x normalised
    assert hba1c.patient.name == "LEI LI" and hba1c.patient.mobile == "13912345678"
    assert hba1c.observed_at == datetime(2024, 3, 6, 7, 45, tzinfo=timezone(timedelta(hours=-5)))
    assert by_code(hba1c)["UGLU"].value_text == "阴性"


def test_gb18030_batch_with_crlf():
    data = (SAMPLES / "cn_lab_gb18030_batch.hl7").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = only_report(parse_hl7(data))
    assert report.sender == "区医院检验科" and report.title == "肝功能"
    assert (report.patient.name, report.patient.sex, report.patient.birth_date) == ("王小明", "M", date(1955, 8, 20))
    assert report.observed_at == datetime(2024, 4, 1, 8, 15, tzinfo=CST)
    alt, ast, ggt = report.results
    assert (alt.name, alt.value, alt.flag, alt.ref_low, alt.ref_high) == ("丙氨酸氨基转移酶", 56.0, "H", 9.0, 50.0)
    assert ast.flag == "" and ggt.flag == "N" and ggt.name == "γ-谷氨酰转移酶"


def test_errors_name_message_segment_and_field():
    entries = load("errors.hl7")
    errors = [str(e) for e in entries if isinstance(e, ParseError)]
    assert errors[0].startswith("message 1 (MSH-10 ERR01), segment MSH, field MSH-9: message type 'ADT^A01'")
    assert errors[1].startswith("message 2 (MSH-10 ERR02), segment PID: no PID segment")
    assert errors[2] == "message 3 (MSH-10 ERR03): every OBX of the order is empty (no value in OBX-5)"
    assert errors[3] == "message 4 (MSH-10 ERR04), segment OBX 2, field OBX-3: no test code"
    assert errors[4] == "message 5 (MSH-10 ERR05), segment OBR, field OBR-7: unparseable date/time '20241399'"
    assert errors[5].startswith("message 7 (MSH-10 ERR07), segment MSH, field MSH-2: bad encoding characters '^~'")
    assert errors[6] == "message 9 (MSH-10 ERR09): the message holds no OBX results"
    # fields the report can do without are warnings: OBX-14 falls back to OBR-7, the birth date is left out
    reports = {r.label: r for r in entries if isinstance(r, ParsedReport)}
    [late] = reports["message 6 (MSH-10 ERR06)"].warnings
    assert late == ("segment OBX 1, field OBX-14: unparseable date/time '2024-02-30 08:00'; "
                    "the order's time is used")
    [birth] = reports["message 8 (MSH-10 ERR08)"].warnings
    assert birth.startswith("segment PID, field PID-7: unparseable date/time '19901345'")
    ok = entries[-1]
    assert isinstance(ok, ParsedReport) and ok.label == "message 10 (MSH-10 OK10)"
    assert ok.results[0].value == 5.6


def test_data_before_first_msh_is_reported_but_messages_still_read():
    error, report = load("junk_before_msh.hl7")
    assert error.location == "file, before message 1" and "导出时间" in error.message
    assert isinstance(report, ParsedReport) and report.results[0].code == "GLU"


def test_not_hl7_and_undecodable():
    [error] = load("not_hl7.txt")
    assert error.location == "file" and "no MSH" in error.message
    [error] = parse_hl7(b"MSH|^~\\&|\xff\xfe\xff")
    assert "neither UTF-8 nor GB18030" in error.message


# ---------------------------------------------------------------- rules in isolation

MESSAGE = ("MSH|^~\\&|LIS|LAB|||20240310080000||ORU^R01|{control}|P|2.5\r"
           "PID|1||{card}||张三||19900307|F\r"
           "{obr}"
           "OBX|1|NM|GLU^葡萄糖^L||5.6|mmol/L|3.9-6.1|N|||F\r")


def test_source_key_is_stable_across_resends_and_falls_back_to_msh10():
    first = parse_hl7(MESSAGE.format(control="A1", card="C1", obr="OBR|1||F-77|GLU\r").encode())[0]
    again = parse_hl7(MESSAGE.format(control="B2", card="C1", obr="OBR|1||F-77|GLU\r").encode())[0]
    assert first.source_key == again.source_key == "LAB|filler:F-77"
    placer = parse_hl7(MESSAGE.format(control="A1", card="C1", obr="OBR|1|P-9||GLU\r").encode())[0]
    assert placer.source_key == "LAB|placer:P-9"
    bare = parse_hl7(MESSAGE.format(control="A1", card="C1", obr="").encode())[0]
    assert bare.source_key == "LAB|MSH-10:A1#1" and bare.title == ""


def test_message_type_variants():
    ok = MESSAGE.format(control="T1", card="C1", obr="OBR|1||F-1|GLU\r")
    for kind in ("ORU^R01^ORU_R01", "ORU", "ORU_R01"):
        assert isinstance(parse_hl7(ok.replace("ORU^R01", kind).encode())[0], ParsedReport), kind
    [error] = parse_hl7(ok.replace("ORU^R01", "ORU^R30").encode())
    assert error.location == "message 1 (MSH-10 T1), segment MSH, field MSH-9"


def test_several_patients_in_one_message():
    text = MESSAGE.format(control="M1", card="C1", obr="OBR|1||F-1|GLU\r")
    text += "PID|2||C2||李四||19800101|M\rOBR|1||F-2|GLU\rOBX|1|NM|GLU^葡萄糖^L||7.1|mmol/L\r"
    first, second = parse_message(text.rstrip("\r"), 4)
    assert (first.patient.card_no, second.patient.card_no) == ("C1", "C2")
    assert second.label == "message 4 (MSH-10 M1), OBR 2" and second.results[0].position == "OBX 2"


def test_split_messages_handles_framing_and_line_endings():
    text = "\x0bMSH|^~\\&|A\rPID|1\r\x1c\r\nMSH|^~\\&|B\nBHS|x\nOBX|1\r\n  \nwrapped"
    messages, junk = split_messages(text)
    assert messages == ["MSH|^~\\&|A\rPID|1", "MSH|^~\\&|B\rOBX|1wrapped"] and junk == ""


@pytest.mark.parametrize("text, expected", [
    ("20240305", datetime(2024, 3, 5, tzinfo=CST)),
    ("202403051030", datetime(2024, 3, 5, 10, 30, tzinfo=CST)),
    ("20240305103015.25+0000", datetime(2024, 3, 5, 10, 30, 15, 250000, tzinfo=timezone.utc)),
    ("2024-03-05 10:30", datetime(2024, 3, 5, 10, 30, tzinfo=CST)),
    ("", None),
])
def test_parse_ts(text, expected):
    assert parse_ts(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("3.9-6.1", (3.9, 6.1)), ("3.9~6.1", (3.9, 6.1)), ("3.9～6.1 mmol/L", (3.9, 6.1)), ("<5.2", (None, 5.2)),
    ("≤5.2", (None, 5.2)), (">1.0", (1.0, None)), ("-2.0-2.0", (-2.0, 2.0)), ("阴性", (None, None)), ("", (None, None)),
])
def test_parse_ref_range(text, expected):
    assert parse_ref_range(text) == expected


@pytest.mark.parametrize("sent, flag", [("H", "H"), ("hh", "HH"), ("<", "L"), ("HU", "H"), ("AA", "A"),
                                        ("↑", "H"), ("偏低", "L"), ("W", ""), ("", "")])
def test_normalise_flag(sent, flag):
    assert normalise_flag(sent) == flag


def test_build_ack_swaps_sender_and_receiver():
    message = "MSH|^~\\&|LIS|SZYY-LAB|CARELOOP|CLINIC01|20240305103000||ORU^R01^ORU_R01|CL1|P|2.5.1\rPID|1"
    now = datetime(2024, 3, 5, 10, 31, tzinfo=CST)
    ack = build_ack(message, "AE", "OBX 2: bad | value", control_id="ACK1", now=now)
    msh, msa, err = ack.rstrip("\r").split("\r")
    assert msh == "MSH|^~\\&|CARELOOP|CLINIC01|LIS|SZYY-LAB|20240305103100+0800||ACK^R01^ACK|ACK1|P|2.5.1"
    assert msa == "MSA|AE|CL1|OBX 2: bad \\F\\ value"
    assert err == "ERR|||207^Application internal error^HL70357|E||||OBX 2: bad \\F\\ value"
    assert build_ack(message, "AA", "ok", control_id="X").split("\r")[1] == "MSA|AA|CL1|ok"


def test_ack_for_posted_body_answers_every_message_and_survives_garbage():
    data = (SAMPLES / "cn_lab_mllp_utf8.hl7").read_bytes()
    acks = ack_for(data, "AA", "imported 14 results")
    assert acks.count("MSH|") == 2 and "MSA|AA|CL20240305001|" in acks and "MSA|AA|CL20240306002|" in acks
    rejected = ack_for(b"\xff\xfe not hl7", "AR", "token required")
    assert rejected.split("\r")[1] == "MSA|AR||token required"
