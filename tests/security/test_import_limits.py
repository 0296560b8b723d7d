"""Imports that cannot exhaust the server (issue 12, item 8).

Hostile files are built here: an XLSX whose rows each hold one cell in column XFD,
a row numbered 1,048,576, zip bombs, a cell over Excel's own limit, CSV fields and
lines of megabytes, JSON nested 1,000 deep, millions of tiny JSON values, an HL7
message of millions of separators. Each is parsed in a fresh process that reports
its peak memory: every one is refused with a message naming the limit, within a
few tens of megabytes. A file within the limits that still needs too much memory
is parsed under a ceiling in a child process, and the job says so.
"""
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rq import SimpleWorker

from app.core import jobs, memlimit
from app.records import limits, parse_table
from app.records.parse_table import ColumnMapping
from app.records.parsed import ParseError
from tests.security import hostile

ROOT = Path(__file__).resolve().parents[2]
GROWTH_MB = 80  # what a refused file may cost at most (the file itself, decoded, counts)

CASES = {  # name: (door, builder, words the refusal says)
    "xfd.xlsx": ("import", hostile.xlsx_xfd_rows, "column XFD; at most 1000 columns"),
    "far-row.xlsx": ("import", hostile.xlsx_far_row, "past row 100,000"),
    "sheet-bomb.xlsx": ("import", lambda: hostile.xlsx_bomb(megabytes=300), "unpacks to 300 MB; at most 100 MB"),
    "strings-bomb.xlsx": ("import", lambda: hostile.xlsx_bomb("xl/sharedStrings.xml", 300), "unpacks to 300 MB"),
    "huge-field.csv": ("import", hostile.csv_huge_field, "a line may hold at most"),
    "wide-row.csv": ("import", hostile.csv_wide_row, "a line may hold at most"),
    "many-rows.csv": ("import", hostile.csv_many_rows, "past row 100,000"),
    "deep.json": ("fhir", hostile.deep_json, "nests deeper than 40 levels"),
    "deep-objects.json": ("fhir", lambda: hostile.deep_json(5000, b'{"a":', b"}"), "nests deeper than 40 levels"),
    "deep-extension.json": ("fhir", hostile.deep_fhir_extension, "nests deeper than 40 levels"),
    "wide.json": ("fhir", hostile.wide_json, "at most 250,000 can be imported"),
    "many-fields.hl7": ("hl7", hostile.hl7_many_fields, "at most 200,000 can be read"),
}


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """Every hostile file through its door in one fresh process: name -> what the probe saw."""
    folder = tmp_path_factory.mktemp("hostile")
    arguments = []
    for name, (door, build, _words) in CASES.items():
        path = folder / name
        path.write_bytes(build())
        arguments.append(f"{door}:{path}:{name}")
    done = subprocess.run([sys.executable, "-m", "tests.security.memprobe", *arguments], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    outcomes = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {o["name"]: o for o in outcomes}, done.stderr[-2000:]


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_file_is_refused_clearly_within_bounded_memory(probed, name):
    outcomes, stderr = probed
    assert name in outcomes, f"the probe died before {name}: {stderr}"
    seen = outcomes[name]
    assert seen["exception"] == "", seen  # no RecursionError, csv.Error, MemoryError: a refusal
    assert seen["reports"] == 0 and any(CASES[name][2] in error for error in seen["errors"]), seen
    assert seen["growth_mb"] < GROWTH_MB, seen


def test_the_xfd_workbook_is_small_and_would_cost_gigabytes_padded():
    """The file of the report: tens of kilobytes, 12,000 rows x 16,384 columns once padded."""
    data = hostile.xlsx_xfd_rows()
    assert len(data) < 100 * 1024


MAPPING = ColumnMapping(card_no="体检号", name="姓名", exam_date="体检日期", indicators={"空腹血糖": "14771-0"})


def _refusal(data: bytes, filename: str = "a.xlsx") -> str:
    items = parse_table.parse_table(data, filename, MAPPING)
    assert len(items) == 1 and isinstance(items[0], ParseError), items
    return str(items[0])


def test_a_cell_over_excels_limit_is_refused():
    assert "a cell may hold at most 32,767" in _refusal(hostile.xlsx_long_cell())


def test_a_quoted_csv_field_over_the_limit_is_refused():
    field = "\n".join(["9" * 1000] * 40)  # 40,000 characters over many short lines
    data = f'体检号,姓名,体检日期,空腹血糖\nTJ1,张三,2024-03-01,"{field}"\n'.encode()
    assert "a cell may hold at most 32,767" in _refusal(data, "a.csv")
    runaway = b'\xe4\xbd\x93\xe6\xa3\x80\xe5\x8f\xb7,x\nTJ1,"' + b"9\n" * 80_000  # a quote never closed
    assert "cannot be read as CSV" in _refusal(runaway, "a.csv")


def test_too_many_cells_are_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CELLS", 5_000)
    assert "more than 5,000 cells" in _refusal(hostile.xlsx_many_cells(rows=20, columns=300))
    rows = "体检号,姓名,体检日期,空腹血糖\n" + "TJ1,张三,2024-03-01,5.6\n" * 2000
    assert "more than 5,000 cells" in _refusal(rows.encode(), "a.csv")


def test_a_zip_that_lies_about_its_sizes_is_refused():
    assert "not an XLSX workbook" in _refusal(hostile.xlsx_lying_sizes()) or \
        "damaged" in _refusal(hostile.xlsx_lying_sizes())


def test_a_damaged_sheet_is_refused_not_a_crash():
    data = bytearray(hostile.xlsx_many_cells(rows=200, columns=50))
    start = bytes(data).find(b"xl/worksheets/sheet1.xml") + 200  # inside the sheet's compressed bytes
    data[start:start + 40] = b"\x00" * 40
    assert re.search(r"damaged|not an XLSX", _refusal(bytes(data)))


def test_a_nul_character_is_refused_by_every_door():
    from app.records.parse_fhir import parse_fhir
    from app.records.parse_hl7 import parse_hl7

    csv_items = parse_table.parse_table(b"\xe4\xbd\x93\xe6\xa3\x80\xe5\x8f\xb7,\xe5\xa7\x93\xe5\x90\x8d\n" * 2000
                                        + b"TJ1,\x00\n", "a.csv", MAPPING)
    assert "NUL" in str(csv_items[0])
    assert "NUL" in str(parse_hl7(b"MSH|^~\\&|LIS\rPID|1||TJ\x001\r")[0])
    fhir = b'{"resourceType": "Observation", "status": "final", "code": {"text": "a\\u0000b"}}'
    assert "NUL" in str(parse_fhir(fhir)[0])


# ------------------------------------------------------------- memory ceiling

def _allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def test_the_ceiling_stops_a_child_and_spares_the_parent():
    assert memlimit.run_capped(200, _allocate, 50) == 50 * 1024 * 1024
    with pytest.raises(memlimit.OutOfMemory):
        memlimit.run_capped(100, _allocate, 2000)
    with pytest.raises(memlimit.ChildFailed, match="ZeroDivisionError"):
        memlimit.run_capped(100, lambda: 1 / 0)


def _upload(client, data: bytes, name: str):
    return client.submit("/records/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_import_job_that_needs_more_than_the_ceiling_says_so(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    # within every limit (90 MB unpacked), but its shared strings take 90 MB at once
    workbook = hostile.xlsx_bomb("xl/sharedStrings.xml", megabytes=90)
    app.config["IMPORT_PARSE_MEMORY_MB"] = 16
    try:
        started = _upload(client, workbook, "big.xlsx")
        assert started.status_code == 200 and "<progress" in started.get_data(as_text=True)
        run_id = re.search(r'id="job-(\d+)"', started.get_data(as_text=True)).group(1)
        with app.app_context():
            SimpleWorker([jobs.queue(q) for q in jobs.QUEUES], connection=jobs.redis_connection()).work(burst=True)
    finally:
        app.config.pop("IMPORT_PARSE_MEMORY_MB")
    done = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "needs more than 16 MB of memory" in done and "split it into smaller files" in done


def test_an_xlsx_bomb_goes_to_the_job_not_the_request():
    from app.records import importer

    small_but_big = hostile.xlsx_many_cells(rows=3000, columns=100)  # ~100 KB, unpacks to ~5 MB
    assert len(small_but_big) < 256 * 1024 and importer.needs_job(small_but_big, 256 * 1024)


@pytest.mark.parametrize("name", ["xfd.xlsx", "deep.json", "huge-field.csv"])
def test_the_upload_page_shows_the_refusal(make_tenant, client_for, name):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    door, build, words = CASES[name]
    data = build()
    if name == "huge-field.csv":
        data = hostile.csv_huge_field(megabytes=0) + b"TJ2,x,2024-03-01,\"" + b"9" * 200_000 + b"\"\n"
        words = "cannot be read as CSV"  # a 200,000-character field, past csv's own limit
    response = _upload(client, data, name)
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 422), page[-800:]
    assert words.split(";")[0] in page


# --------------------------------------------------------------------- API

def _token(app, tenant) -> str:
    from app.records import api_tokens
    from tenants.context import tenant_context
    from tenants.db import db

    with app.app_context(), tenant_context(tenant.id):
        _row, token = api_tokens.create("lab", ["fhir:write", "hl7:write"], None)
        db.session.commit()
    return token


def test_the_api_refuses_hostile_bodies_in_its_own_format(app, make_tenant, client_for):
    tenant = make_tenant()
    auth = {"Authorization": f"Bearer {_token(app, tenant)}"}
    client = client_for(tenant)
    deep = client.post("/api/v1/fhir", data=hostile.deep_json(), headers=auth)
    assert deep.status_code == 422 and deep.is_json
    assert "nests deeper" in json.dumps(deep.get_json())
    wide = client.post("/api/v1/fhir", data=hostile.wide_json(400_000), headers=auth)
    assert wide.status_code == 422 and wide.get_json()["resourceType"] == "OperationOutcome"
    nul = client.post("/api/v1/hl7", data=b"MSH|^~\\&|LIS|L|C|D|20240506||ORU^R01|N1|P|2.5\rPID|1||\x00\r",
                      headers=auth)
    assert nul.status_code == 422 and nul.content_type.startswith("application/hl7-v2")
    assert "MSA|AE|N1" in nul.get_data(as_text=True)


def test_api_errors_are_never_html(app, make_tenant, client_for, monkeypatch):
    tenant = make_tenant()
    auth = {"Authorization": f"Bearer {_token(app, tenant)}"}
    client = client_for(tenant)
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        fhir = client.post("/api/v1/fhir", data=b"{" + b" " * 4096 + b"}", headers=auth)
        hl7 = client.post("/api/v1/hl7", data=b"MSH|" + b" " * 4096, headers=auth)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert fhir.status_code == 413 and fhir.get_json()["issue"][0]["code"] == "too-costly"
    assert hl7.status_code == 413 and hl7.get_data(as_text=True).startswith("MSH|")
    assert "MSA|AR" in hl7.get_data(as_text=True)

    from app.records import importer

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(importer, "import_parsed", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        fhir = client.post("/api/v1/fhir", data=b'{"resourceType": "Observation"}', headers=auth)
        hl7 = client.post("/api/v1/hl7", data=b"MSH|^~\\&|A|B|C|D|20240506||ORU^R01|X9|P|2.5\r", headers=auth)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert fhir.status_code == 500 and fhir.get_json()["issue"][0]["code"] == "exception"
    assert hl7.status_code == 500 and "MSA|AR" in hl7.get_data(as_text=True)
    assert "<html" not in fhir.get_data(as_text=True) + hl7.get_data(as_text=True)
    assert client.get("/api/v1/nothing").get_json()["issue"][0]["code"] == "not-found"
