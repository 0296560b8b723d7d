"""Lists as files: CSV (streamed, UTF-8 with a byte-order mark so that Excel
reads Chinese correctly) and XLSX (openpyxl's write-only mode, one sheet a
table).

A table is a title, a header row and rows of plain values (str, int, float,
date, datetime, None). What a row holds (masked identifiers, names rather
than ids) is the caller's business; so is the audit row of the export.
"""
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from flask import Response, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMATS = ("csv", "xlsx")
BOM = "\ufeff"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a cell a spreadsheet would run as a formula


@dataclass
class Table:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence] = field(default_factory=list)


def choose_format(raw: str | None) -> str | None:
    """The export format a request asked for ("csv" or "xlsx"), None if neither."""
    value = (raw or "").lower()
    return value if value in FORMATS else None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _safe_text(text: str) -> str:
    """Text that a spreadsheet shows, never evaluates (CSV/formula injection, OWASP)."""
    return "'" + text if text.startswith(_FORMULA_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_chunks(table: Table, every: int = 500) -> Iterator[str]:
    """The table as CSV text in chunks of ``every`` rows, starting with the byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_safe_text(str(h)) for h in table.headers])
    for count, row in enumerate(table.rows, 1):
        writer.writerow([v if isinstance(v, int | float) else _safe_text(_cell_text(v)) for v in row])
        if count % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _sheet_title(title: str, taken: set[str]) -> str:
    name = _SHEET_BAD.sub(" ", title).strip()[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook with a sheet per table (bold header row), built in write-only mode."""
    book = Workbook(write_only=True)
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title, taken))
        header = []
        for text in table.headers:
            cell = WriteOnlyCell(sheet, value=_safe_text(str(text)))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append([v if isinstance(v, int | float | date) or v is None else _safe_text(str(v))
                          for v in row])
    if not tables:
        book.create_sheet("Sheet")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _disposition(filename: str) -> str:
    """attachment; an ASCII fallback name and the real one (RFC 6266 / 5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _headers(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = _disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def csv_response(table: Table, filename: str) -> Response:
    """A streamed CSV download (the request context stays open while it streams)."""
    response = Response(stream_with_context(csv_chunks(table)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return _headers(response, filename + ".csv")


def xlsx_response(tables: Sequence[Table], filename: str) -> Response:
    return _headers(Response(xlsx_bytes(tables), mimetype=XLSX_MIME), filename + ".xlsx")


def file_response(data: bytes, filename: str, mimetype: str = "application/pdf") -> Response:
    """A stored file (a printed PDF, a ZIP) as a download that no cache keeps."""
    return _headers(Response(data, mimetype=mimetype), filename)


def response(fmt: str, table: Table, filename: str) -> Response:
    """One table as the chosen format's download."""
    return csv_response(table, filename) if fmt == "csv" else xlsx_response([table], filename)
