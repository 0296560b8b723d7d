"""Hostile files built in the tests: spreadsheets, zip bombs, deep JSON, huge CSV fields."""
import io
import zipfile

from openpyxl import Workbook

HEADER = ["体检号", "姓名", "体检日期", "空腹血糖"]


def _workbook_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "体检"
    sheet.append(HEADER)
    sheet.append(["TJ1", "张三", "2024-03-01", 5.6])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _replace(data: bytes, name: str, writer) -> bytes:
    """The workbook with one part rewritten by ``writer(file)`` (streamed, so big parts cost no memory here)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == name:
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with target.open(info, "w", force_zip64=True) as part:
                    writer(part)
            else:
                target.writestr(item, source.read(item.filename), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
               b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe4\xbd\x93\xe6\xa3\x80\xe5\x8f\xb7</t></is></c>'
               b'<c r="B1" t="inlineStr"><is><t>\xe5\xa7\x93\xe5\x90\x8d</t></is></c>'
               b'<c r="C1" t="inlineStr"><is><t>\xe4\xbd\x93\xe6\xa3\x80\xe6\x97\xa5\xe6\x9c\x9f</t></is></c></row>')
_SHEET_TAIL = b"</sheetData></worksheet>"


def xlsx_xfd_rows(rows: int = 12000) -> bytes:
    """Every row holds one cell, in the last column (XFD): a reader that pads rows to the widest
    column holds 16,384 cells a row."""
    def write(part):
        part.write(_SHEET_HEAD)
        for n in range(2, rows + 2):
            part.write(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (n, n))
        part.write(_SHEET_TAIL)

    return _replace(_workbook_bytes(), "xl/worksheets/sheet1.xml", write)


def xlsx_far_row() -> bytes:
    """One row numbered 1,048,576: a reader that fills the missing rows makes a million of them."""
    def write(part):
        part.write(_SHEET_HEAD + b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>' + _SHEET_TAIL)

    return _replace(_workbook_bytes(), "xl/worksheets/sheet1.xml", write)


def xlsx_bomb(part_name: str = "xl/worksheets/sheet1.xml", megabytes: int = 400) -> bytes:
    """A sheet (or shared-strings part) that inflates to hundreds of megabytes of XML from a small file."""
    chunk = b"<row/>" * (1024 * 1024 // 6)

    def write(part):
        if part_name.endswith("sharedStrings.xml"):
            part.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                       b"<si><t>")
            filler = b"x" * (1024 * 1024)
            for _ in range(megabytes):
                part.write(filler)
            part.write(b"</t></si></sst>")
            return
        part.write(_SHEET_HEAD)
        for _ in range(megabytes):
            part.write(chunk)
        part.write(_SHEET_TAIL)

    data = _workbook_bytes()
    if part_name not in zipfile.ZipFile(io.BytesIO(data)).namelist():
        data = _add(data, part_name)
    return _replace(data, part_name, write)


def _add(data: bytes, name: str) -> bytes:
    """The workbook with an empty shared-strings part, named in its content types."""
    override = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>')
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml").replace(b"</Types>", override)
    data = _replace(data, "[Content_Types].xml", lambda part: part.write(types))
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as book:
        book.writestr(name, b"")
    return out.getvalue()


def xlsx_many_cells(rows: int = 3000, columns: int = 1000) -> bytes:
    """A dense sheet over the cell limit (rows x columns of small numbers)."""
    def write(part):
        part.write(_SHEET_HEAD)
        cells = b"".join(b"<c><v>%d</v></c>" % (c % 10) for c in range(columns))
        for n in range(2, rows + 2):
            part.write(b'<row r="%d">' % n + cells + b"</row>")
        part.write(_SHEET_TAIL)

    return _replace(_workbook_bytes(), "xl/worksheets/sheet1.xml", write)


def csv_huge_field(megabytes: int = 8) -> bytes:
    return ("体检号,姓名,体检日期,空腹血糖\nTJ1,张三,2024-03-01,\"" + "9" * (megabytes * 1024 * 1024) + "\"\n").encode()


def csv_wide_row(megabytes: int = 16) -> bytes:
    """A line of commas: millions of empty fields in one row."""
    return b"\xe4\xbd\x93\xe6\xa3\x80\xe5\x8f\xb7,\xe5\xa7\x93\xe5\x90\x8d\n" + b"," * (megabytes * 1024 * 1024) + b"\n"


def csv_many_rows(rows: int = 2_000_000) -> bytes:
    return b"a,b\n" + b"1,2\n" * rows


def deep_json(depth: int = 1000, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return b'{"resourceType": "Bundle", "type": "collection", "entry": ' + opener * depth + closer * depth + b"}"


def deep_fhir_extension(depth: int = 200) -> bytes:
    """Valid-looking JSON nested below the parser's limit but far beyond anything FHIR holds."""
    inner = b"{}"
    for _ in range(depth):
        inner = b'{"extension": [' + inner + b"]}"
    return (b'{"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "1", '
            b'"extension": [' + inner + b"]}")


def wide_json(items: int = 3_000_000) -> bytes:
    """Millions of tiny JSON values: small bytes, many Python objects."""
    return b'{"resourceType": "Bundle", "type": "collection", "entry": [' + b",".join([b"{}"] * items) + b"]}"


def hl7_many_fields(fields: int = 4_000_000) -> bytes:
    """One OBX segment of millions of empty fields and components."""
    return ("MSH|^~\\&|LIS|LAB|CARELOOP|DEMO|20240506093000||ORU^R01|BIG1|P|2.5.1\rPID|1||TJ1||张三\r"
            "OBR|1||A1|LAB^x|||20240506083000\rOBX|1|NM|14771-0^^LN||5.6").encode() + b"|^" * (fields // 2) + b"\r"


def xlsx_long_cell(chars: int = 40_000) -> bytes:
    def write(part):
        part.write(_SHEET_HEAD + b'<row r="2"><c r="A2" t="inlineStr"><is><t>' + b"9" * chars
                   + b"</t></is></c></row>" + _SHEET_TAIL)

    return _replace(_workbook_bytes(), "xl/worksheets/sheet1.xml", write)


def xlsx_lying_sizes() -> bytes:
    """A sheet part whose zip entry declares 100 bytes and unpacks to far more."""
    data = xlsx_many_cells(rows=50, columns=50)
    body = bytearray(data)
    name = b"xl/worksheets/sheet1.xml"
    position = data.find(b"PK\x01\x02")  # central directory entries: the sizes zipfile trusts
    while position != -1:
        name_length = int.from_bytes(data[position + 28:position + 30], "little")
        if data[position + 46:position + 46 + name_length] == name:
            body[position + 24:position + 28] = (100).to_bytes(4, "little")
            break
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(body)
