"""Spreadsheet exports of Chinese health-check centres (CSV, XLSX) -> ParsedReport.

* Content decides the type: XLSX is a zip (PK\\x03\\x04; first sheet, cached formula
  values); anything else must be text, UTF-8 (BOM or not) else GB18030, comma or
  tab separated (whichever the first lines hold more of). Old .xls and binary junk
  are one ParseError.
* Wide layout: one row per patient per exam, one column per indicator; a row is
  one report. Long layout: one row per result; rows group by (patient, exam date).
* The header row is the first of the first ten rows holding every mapped
  identifying column (title rows above it are skipped); row numbers in labels
  and errors are the spreadsheet's own (1-based, header included).
* A mapped identifying/long column missing from the file is one ParseError and
  nothing is read; a mapped indicator column that is missing is reported and the
  rest of the file is read.
* Values: a plain number (an arrow or H/L after it becomes the flag: "6.8↑") gives
  value + value_text; anything else ("<5.0", "阴性", "+") is text only; empty cells
  and "未查"-like placeholders are skipped. Dates without a time are midnight in the clinic's time zone.
* source_key: "<card no. or ID number or name>|<exam date>|<sheet name (XLSX) or file
  name (CSV)>", with "#2", "#3" when the same patient and day come again in one file.
* Limits (app/records/limits.py): an XLSX is checked as a zip (parts, unpacked size)
  before it is opened and read row by row as it streams, each row no wider than its
  last cell; a CSV is read line by line. Past a limit on rows, columns, cells or one
  cell's length the file is refused with a message naming the limit, never a crash.
"""
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from app.core import clock
from app.records import limits
from app.records.parse_hl7 import decode, is_resident_id, normalise_flag, parse_ref_range
from app.records.parsed import ParsedReport, ParsedResult, ParseError, PatientRef

IDENTITY = ("card_no", "name", "id_number", "sex", "birth_date", "exam_date")
LONG = ("item", "code", "value", "unit", "range", "flag")
_SYNONYMS = {  # field -> header names, most specific first
    "card_no": "卡号|体检号|体检编号|就诊卡号|档案号|会员卡号|病历号|门诊号|"
               "card no|cardno|card number|exam no|patient id",
    "name": "姓名|患者姓名|客户姓名|受检者|name|patient name",
    "id_number": "身份证号|身份证|身份证号码|证件号|证件号码|id number|id card|id no",
    "sex": "性别|sex|gender",
    "birth_date": "出生日期|出生年月日|生日|birth date|date of birth|dob|birthday",
    "exam_date": "体检日期|检查日期|检验日期|报告日期|体检时间|检查时间|日期|exam date|test date|date",
    "item": "项目|项目名称|检查项目|检验项目|指标|指标名称|item|test|test name",
    "code": "项目代码|项目编码|代码|item code|test code|loinc|code",
    "value": "结果|检查结果|检验结果|结果值|数值|value|result",
    "unit": "单位|unit|units",
    "range": "参考范围|参考值|参考区间|正常范围|range|reference range|ref range",
    "flag": "提示|标志|异常标志|结果提示|异常提示|flag|abnormal flag",
}
_INDICATOR_NAMES = {  # spellings seen in exports, besides the pack's own names
    "8480-6": "高压 sbp 收缩压(高压)", "8462-4": "低压 dbp 舒张压(低压)", "8867-4": "脉搏 hr pulse",
    "39156-5": "bmi 体质指数", "14771-0": "血糖 fpg fbg glu 空腹血葡萄糖", "4548-4": "hba1c",
    "14647-2": "tc chol 血清总胆固醇", "22748-8": "低密度脂蛋白 ldl ldl-c", "14646-4": "高密度脂蛋白 hdl hdl-c",
    "14927-8": "tg 血清甘油三酯", "1742-6": "谷丙转氨酶 alt", "1920-8": "谷草转氨酶 ast",
    "2324-2": "谷氨酰转肽酶 ggt γ-gt", "14682-9": "血肌酐 cr crea scr", "14933-6": "血尿酸 ua",
    "98979-8": "egfr", "9318-7": "uacr", "718-7": "hb hgb", "3016-3": "tsh",
}
_SEXES = {"男": "M", "女": "F", "M": "M", "F": "F", "MALE": "M", "FEMALE": "F", "1": "M", "2": "F"}
_SKIP = {"", "--", "/", "未查", "未检", "弃检", "未做", "N/A", "NA", "NULL"}
_UNIT = re.compile(r"^(.*?)\s*[(\[]\s*([^()\[\]]+?)\s*[)\]]\s*$")
_VALUE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(↑|↓|HH|LL|H|L)?$", re.I)
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?)?\s*$")
_COMPACT = re.compile(r"^(\d{4})(\d\d)(\d\d)$")
_LOINC = re.compile(r"^\d{1,7}-\d$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # as io.StringIO(newline="") splits, without its copy


class _Bad(ValueError):
    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.where = where


@dataclass
class ColumnMapping:
    """Which column holds what; header names as written in the file ("" = not present)."""

    layout: str = "wide"                                  # "wide" or "long"
    card_no: str = ""
    name: str = ""
    id_number: str = ""
    sex: str = ""
    birth_date: str = ""
    exam_date: str = ""
    item: str = ""                                        # long: test name (or code) column
    code: str = ""                                        # long, optional: a separate test code column
    value: str = ""
    unit: str = ""
    range: str = ""
    flag: str = ""
    indicators: dict[str, str] = field(default_factory=dict)  # wide: header -> LOINC or local code
    units: dict[str, str] = field(default_factory=dict)       # wide: header -> unit (else the header's "(unit)")
    sender: str = ""                                      # the centre's name, for lab code mappings

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> "ColumnMapping":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (raw or {}).items() if k in known and v is not None}
        for key in ("indicators", "units"):
            values[key] = {str(k): str(v) for k, v in dict(values.get(key) or {}).items()}
        cleaned: dict[str, Any] = {k: v if isinstance(v, dict) else str(v) for k, v in values.items()}
        return cls(**cleaned)

    def required(self) -> list[str]:
        names = IDENTITY + (LONG if self.layout == "long" else ())
        return [getattr(self, n) for n in names if getattr(self, n)]


@lru_cache(maxsize=4096)
def _key(text) -> str:
    return re.sub(r"[\s_\-:：]+", " ", unicodedata.normalize("NFKC", str(text or ""))).strip().lower()


def split_unit(header: str) -> tuple[str, str]:
    """"空腹血糖(mmol/L)" / "空腹血糖（mmol/L）" -> ("空腹血糖", "mmol/L")."""
    text = unicodedata.normalize("NFKC", header or "").strip()
    match = _UNIT.match(text)
    if match and match[1] and ("/" in match[2] or "%" in match[2] or not _CJK.search(match[2])):
        return match[1], match[2]
    return text, ""


def _known_names() -> dict[str, str]:
    from tenants import packs

    names = {}
    for spec in packs.load("indicators")["indicators"]:
        names[_key(spec["name_zh"])] = names[_key(spec["name_en"])] = spec["code"]
    for code, spellings in _INDICATOR_NAMES.items():
        names.update({_key(s): code for s in spellings.split()})
    return names


def suggest_mapping(headers: list[str], known: dict[str, str] | None = None) -> ColumnMapping:
    """A guess for staff to confirm: identifying columns by common names, the layout, and (wide)
    indicator columns whose name is a known indicator name (``known``: name -> code; the pack's)."""
    mapping, used = ColumnMapping(), set[str]()
    keyed = {_key(split_unit(h)[0]): h for h in reversed(headers) if str(h or "").strip()}
    for field_name, spellings in _SYNONYMS.items():
        header = next((keyed[k] for k in map(_key, spellings.split("|")) if keyed.get(k) not in (None, *used)), "")
        if header:
            setattr(mapping, field_name, header)
            used.add(header)
    mapping.layout = "long" if mapping.item and mapping.value else "wide"
    if mapping.layout == "wide":
        for f in LONG:
            used.discard(getattr(mapping, f))
            setattr(mapping, f, "")
        names = _known_names() if known is None else {_key(k): v for k, v in known.items()}
        mapping.indicators = {h: names[_key(split_unit(h)[0])] for h in headers
                              if h not in used and _key(split_unit(h)[0]) in names}
    return mapping


# ------------------------------------------------------------------ reading

def read_rows(data: bytes, filename: str = "") -> tuple[list[list], str]:
    """The first sheet's rows and its name (XLSX), or the CSV's rows and ``filename``; raises _Bad."""
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Bad(_("this is an old Excel .xls workbook: save it as .xlsx or CSV"))
    return _csv_rows(data), filename


def unpacked_size(data: bytes) -> int:
    """What an XLSX (a zip) declares its parts unpack to; 0 for anything else."""
    if not data.startswith(b"PK\x03\x04"):
        return 0
    try:
        return sum(part.file_size for part in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return 0


def _check_zip(data: bytes) -> None:
    """Refuse a zip bomb before anything unpacks it. Python's zipfile stops a part at the size
    the zip declares for it (and fails its CRC), so the declared sizes bound what is read."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _Bad(_("this zip file is not an XLSX workbook (%(error)s)", error=exc.__class__.__name__)) from exc
    if len(parts) > limits.MAX_ZIP_PARTS:
        raise _Bad(_("this workbook has %(n)d parts; an XLSX file may have at most %(limit)d",
                     n=len(parts), limit=limits.MAX_ZIP_PARTS))
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.MAX_UNCOMPRESSED:
        raise _Bad(_("this workbook unpacks to %(mb)d MB; at most %(limit)d MB can be imported: split it into "
                     "smaller files", mb=unpacked // 2**20, limit=limits.MAX_UNCOMPRESSED // 2**20))


class _Rows:
    """Rows as they are read, refused past the limits before they cost memory."""

    def __init__(self):
        self.rows: list[list] = []
        self.cells = 0

    def add(self, number: int, row: list) -> None:
        if number > limits.MAX_ROWS:
            raise _Bad(_("the sheet goes on past row %(limit)s; at most %(limit)s rows can be imported from one "
                         "file: split it into smaller files", limit=f"{limits.MAX_ROWS:,}"))
        self.cells += len(row) + max(0, number - len(self.rows) - 1)
        if self.cells > limits.MAX_CELLS:
            raise _Bad(_("the sheet holds more than %(limit)s cells; split it into smaller files",
                         limit=f"{limits.MAX_CELLS:,}"))
        for cell in row:
            if isinstance(cell, str) and len(cell) > limits.MAX_FIELD_CHARS:
                raise _Bad(_("row %(n)d holds a cell of %(chars)s characters; a cell may hold at most %(limit)s",
                             n=number, chars=f"{len(cell):,}", limit=f"{limits.MAX_FIELD_CHARS:,}"))
        while len(self.rows) < number - 1:  # rows the sheet leaves out are empty
            self.rows.append([])
        self.rows.append(row)


def _too_wide(number: int, column: int) -> _Bad:
    from openpyxl.utils import get_column_letter

    return _Bad(_("row %(n)d has a cell in column %(column)s; at most %(limit)d columns can be imported",
                  n=number, column=get_column_letter(min(column, 18278)), limit=limits.MAX_COLUMNS))


def _xlsx_rows(data: bytes) -> tuple[list[list], str]:
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser

    _check_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # a zip that is no workbook: BadZipFile, KeyError, InvalidFileException...
        raise _Bad(_("this zip file is not an XLSX workbook (%(error)s)", error=exc.__class__.__name__)) from exc
    try:
        sheet = book.worksheets[0]
        rows = _Rows()
        # openpyxl's own row parser, without the read-only sheet's padding of every row to the widest
        # column and of the rows between: each row here is as wide as its last cell, and checked first
        with sheet._get_source() as source:  # type: ignore[attr-defined]  # pinned openpyxl 3.1.5
            parser = WorkSheetParser(source, sheet._shared_strings, data_only=True,  # type: ignore[attr-defined]
                                     epoch=book.epoch,
                                     date_formats=book._date_formats,  # type: ignore[attr-defined]
                                     timedelta_formats=book._timedelta_formats)  # type: ignore[attr-defined]
            for number, cells in parser.parse():
                width = max((cell["column"] for cell in cells), default=0)
                if width > limits.MAX_COLUMNS:
                    raise _too_wide(number, width)
                row: list = [None] * width
                for cell in cells:
                    row[cell["column"] - 1] = cell["value"]
                rows.add(number, row)
        return rows.rows, sheet.title
    except (_Bad, MemoryError):
        raise
    except Exception as exc:  # a damaged part: BadZipFile (CRC), zlib.error, an XML ParseError, KeyError...
        raise _Bad(_("this XLSX workbook is damaged and cannot be read (%(error)s)",
                     error=exc.__class__.__name__)) from exc
    finally:
        book.close()


def _lines(text: str, delimiter: str):
    """A CSV's physical lines for csv.reader, each checked before the reader splits it."""
    for number, match in enumerate(_LINE.finditer(text), 1):
        line = match[0]
        if len(line) > limits.MAX_LINE_CHARS:
            raise _Bad(_("line %(n)d is %(chars)s characters long; a line may hold at most %(limit)s",
                         n=number, chars=f"{len(line):,}", limit=f"{limits.MAX_LINE_CHARS:,}"))
        if line.count(delimiter) >= limits.MAX_COLUMNS:
            raise _Bad(_("line %(n)d has more than %(limit)d columns; at most %(limit)d can be imported",
                         n=number, limit=limits.MAX_COLUMNS))
        yield line


def _csv_rows(data: bytes) -> list[list]:
    try:
        text = decode(data)
    except UnicodeDecodeError:
        raise _Bad(_("this is not a CSV or XLSX file: not UTF-8 or GB18030 text")) from None
    sample = text[:4096]
    if "\x00" in sample or sum(ord(c) < 32 and c not in "\r\n\t" for c in sample) > len(sample) // 100:
        raise _Bad(_("this is not a CSV or XLSX file: it holds binary data"))
    if "\x00" in text:
        raise _Bad(_("this CSV file holds a NUL character (line %(n)d): it is not a text export",
                     n=text.count("\n", 0, text.index("\x00")) + 1))
    head = "\n".join(text[:65536].splitlines()[:20])
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    rows = _Rows()
    reader = csv.reader(_lines(text, delimiter), delimiter=delimiter)
    try:
        for row in reader:
            rows.add(len(rows.rows) + 1, row)
    except csv.Error as exc:  # a quoted field longer than csv's own limit, or a stray quote
        raise _Bad(_("line %(n)d cannot be read as CSV (a field too long or a quote not closed): %(error)s",
                     n=reader.line_num, error=exc)) from None
    return rows.rows


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(" ", "minutes") if cell.time() != datetime.min.time() else cell.date().isoformat()
    return str(cell).strip().strip("\ufeff\u3000").strip()


def _header_row(rows: list[list], wanted: set[str]) -> int:
    """The first of the first ten rows holding every wanted header, else the one holding most."""
    best, best_hits = None, 0
    for index, row in enumerate(rows[:10]):
        hits = len(wanted & {_key(_text(c)) for c in row})
        if wanted and hits == len(wanted):
            return index
        if hits > best_hits:
            best, best_hits = index, hits
    if best is not None:
        return best
    return next((i for i, row in enumerate(rows) if any(_text(c) for c in row)), 0)


def read_headers(data: bytes, filename: str = "") -> list[str]:
    """The header row's titles, for suggest_mapping and the mapping form ([] when unreadable)."""
    try:
        rows, _ = read_rows(data, filename)
    except _Bad:
        return []
    if not rows:
        return []
    spellings = {_key(s) for f in IDENTITY for s in _SYNONYMS[f].split("|")}
    headers = [_text(c) for c in rows[_header_row(rows, spellings)]]
    while headers and not headers[-1]:
        headers.pop()
    return headers


# ------------------------------------------------------------------ parsing

def parse_table(data: bytes, filename: str, mapping: ColumnMapping) -> list[ParsedReport | ParseError]:
    try:
        rows, sheet = read_rows(data, filename)
    except _Bad as bad:
        return [ParseError(_("file"), str(bad))]
    start = _header_row(rows, {_key(h) for h in mapping.required()})
    headers = [_text(c) for c in rows[start]] if rows else []
    if problems := _problems(mapping):
        return [ParseError(_("column mapping"), _("the column mapping has %(problems)s%(headers)s",
                                                  problems="; ".join(problems), headers=_found(headers)))]
    table = _Table(mapping, headers, sheet or filename or "upload")
    if missing := [h for h in mapping.required() if _key(h) not in table.columns]:
        return [ParseError(_("file"), _missing(missing, headers))]
    out: list[ParsedReport | ParseError] = []
    if mapping.layout == "wide":
        absent = [h for h, code in mapping.indicators.items() if code and _key(h) not in table.columns]
        if len(absent) == len([c for c in mapping.indicators.values() if c]):
            return [ParseError(_("file"), _missing(absent, headers))]
        if absent:
            out.append(ParseError(_("file"), _("%(missing)s; these values are not imported",
                                                 missing=_missing(absent, headers))))
    body = [(n, row) for n, row in enumerate(rows[start + 1:], start + 2) if any(_text(c) for c in row)]
    out.extend(table.wide(body) if mapping.layout == "wide" else table.long(body))
    _unique_keys(out)
    return out


def _problems(mapping: ColumnMapping) -> list[str]:
    long = mapping.layout == "long"
    checks = [(mapping.layout in ("wide", "long"), _("layout %(layout)r (use wide or long)", layout=mapping.layout)),
              (mapping.card_no or mapping.id_number or mapping.name, _("no card number, ID number or name column")),
              (mapping.exam_date, _("no exam date column")),
              (not long or (mapping.item or mapping.code) and mapping.value, _("no test name or result column")),
              (long or any(mapping.indicators.values()), _("no indicator columns"))]
    return [text for ok, text in checks if not ok]


def _found(headers: list[str]) -> str:
    return _(" (headers: %(headers)s)", headers=", ".join(h for h in headers if h) or _("none"))


def _missing(names: list[str], headers: list[str]) -> str:
    return ngettext("the file has no column %(names)s%(headers)s", "the file has no columns %(names)s%(headers)s",
                    len(names), names=", ".join(names), headers=_found(headers))


def _unique_keys(items: list) -> None:
    seen: set[str] = set()
    for item in items:
        if isinstance(item, ParsedReport):
            key, n = item.source_key, 1
            while item.source_key in seen:
                n += 1
                item.source_key = f"{key}#{n}"
            seen.add(item.source_key)


class _Table:
    """A sheet's columns under one mapping: turns rows into reports."""

    def __init__(self, mapping: ColumnMapping, headers: list[str], origin: str):
        self.m, self.origin = mapping, origin
        self.columns: dict[str, int] = {}
        for index, header in enumerate(headers):
            self.columns.setdefault(_key(header), index)
        self.names = _known_names() if mapping.layout == "long" else {}

    def cell(self, row: list, header: str):
        index = self.columns.get(_key(header)) if header else None
        return row[index] if index is not None and index < len(row) else None

    def report(self, n: int, row: list) -> ParsedReport:
        m = self.m
        card, number, name = (_text(self.cell(row, h)) for h in (m.card_no, m.id_number, m.name))
        if not (card or number or name):
            raise _Bad(_("no card number, ID number or name"), m.card_no or m.id_number or m.name)
        if not number and is_resident_id(card.upper()):
            number = card
        birth = _moment(self.cell(row, m.birth_date), m.birth_date)
        sex = _SEXES.get(_text(self.cell(row, m.sex)).upper(), "")
        patient = PatientRef(card_no=card, id_number=number.upper(), name=name, sex=sex,
                             birth_date=birth.date() if birth else None)
        when = _moment(self.cell(row, m.exam_date), m.exam_date)
        if when is None:
            raise _Bad(_("no exam date"), m.exam_date)
        key = f"{card or number or name}|{when.date().isoformat()}|{self.origin}"
        return ParsedReport("table", key, _("row %(n)d", n=n), patient, when, sender=m.sender)

    def wide(self, body: list) -> list[ParsedReport | ParseError]:
        out: list[ParsedReport | ParseError] = []
        for n, row in body:
            try:
                report = self.report(n, row)
            except _Bad as bad:
                out.append(ParseError(_("row %(n)d, column %(column)s", n=n, column=bad.where), str(bad)))
                continue
            for header, code in self.m.indicators.items():
                name, unit = split_unit(header)
                result = _result(code, name, self.cell(row, header), self.m.units.get(header) or unit,
                                 _("column %(name)s", name=header))
                report.results += [result] if result else []
            out += [report] if report.results else []
        return out

    def long(self, body: list) -> list[ParsedReport | ParseError]:
        out: list[ParsedReport | ParseError] = []
        groups: dict[str, tuple[ParsedReport, int]] = {}
        for n, row in body:
            try:
                result = self.result(n, row)
                report = self.report(n, row) if result else None
            except _Bad as bad:
                out.append(ParseError(_("row %(n)d, column %(column)s", n=n, column=bad.where), str(bad)))
                continue
            if report is None or result is None:  # no result, no report
                continue
            if report.source_key in groups:
                report, first = groups[report.source_key]
                report.label = _("rows %(first)d-%(last)d", first=first, last=n)
            else:
                groups[report.source_key] = (report, n)
                out.append(report)
            report.results.append(result)
        return out

    def result(self, n: int, row: list) -> ParsedResult | None:
        m = self.m
        item, code, raw = _text(self.cell(row, m.item)), _text(self.cell(row, m.code)), self.cell(row, m.value)
        if _text(raw).upper() in _SKIP:
            return None
        if not (item or code):
            raise _Bad(_("no test name"), m.item or m.code)
        name, item_unit = split_unit(item)
        code = code or (name if _LOINC.match(name) else m.indicators.get(item) or self.names.get(_key(name), name))
        return _result(code, item, raw, _text(self.cell(row, m.unit)) or item_unit, _("row %(n)d", n=n),
                       _text(self.cell(row, m.range)), _text(self.cell(row, m.flag)))


def _result(code: str, name: str, raw, unit: str, position: str, ref: str = "", flag: str = "") -> ParsedResult | None:
    if not code or _text(raw).upper() in _SKIP:
        return None
    text, value, arrow = _value(raw)
    low, high = parse_ref_range(unicodedata.normalize("NFKC", ref)) if ref else (None, None)
    return ParsedResult(code=code, code_system="loinc" if _LOINC.match(code) else "local", name=name,
                        value_text=text, value=value, unit=unit, ref_low=low, ref_high=high, ref_text=ref,
                        flag=normalise_flag(flag) or arrow, position=position)


def _value(raw) -> tuple[str, float | None, str]:
    """A cell -> (value_text, value, flag from an arrow after the number)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _text(float(raw)), float(raw), ""
    text = _text(raw)
    match = _VALUE.match(unicodedata.normalize("NFKC", text))
    if match:
        return match[1], float(match[1]), normalise_flag(match[2] or "")
    return text, None, ""


def _moment(cell, where: str) -> datetime | None:
    """A date cell (text in the accepted spellings, an Excel date or serial number) -> aware datetime."""
    if isinstance(cell, datetime):
        return cell if cell.tzinfo else cell.replace(tzinfo=clock.zone())
    if isinstance(cell, date):
        return datetime(cell.year, cell.month, cell.day, tzinfo=clock.zone())
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and 1 <= cell < 100000:
        from openpyxl.utils.datetime import from_excel

        return from_excel(cell).replace(tzinfo=clock.zone())
    text = unicodedata.normalize("NFKC", _text(cell))
    if not text:
        return None
    match = _DATE.match(text) or _COMPACT.match(text)
    try:
        if match and 1900 <= int(match[1]) <= 2100:
            parts = [int(part or 0) for part in match.groups()] + [0, 0, 0]  # a date alone: at 00:00:00
            year, month, day, hour, minute, second = parts[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=clock.zone())
    except ValueError:
        pass
    raise _Bad(_("cannot read the date %(text)r: write it as 2024-03-01, 2024/3/1, 2024年3月1日 or 20240301",
                 text=text), where)
