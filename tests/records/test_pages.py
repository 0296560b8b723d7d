"""The staff pages of the records capability: trends, manual entry, spreadsheet
mappings and the large-file import job."""
import re
import time

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.core import jobs
from app.records.models import Observation, TableMapping
from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.time_sensitive  # also run at the pinned instants (tests/clock.py)


def oru(card_no: str, when: str, results: list[tuple[str, str, str, str]], control: str) -> str:
    """One ORU^R01; results are (LOINC, value, unit, flag); ``when`` is YYYYMMDD."""
    lines = [f"MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|{when}093000||ORU^R01|{control}|P|2.5.1",
             f"PID|1||{card_no}||张明华||19700101|M",
             f"OBR|1||{control}|LAB^体检|||{when}083000"]
    lines += [f"OBX|{i}|NM|{code}^^LN||{value}|{unit}||{flag}|||F|||{when}083000"
              for i, (code, value, unit, flag) in enumerate(results, 1)]
    return "\r".join(lines) + "\r"


def _values(app, tenant, patient_id) -> list[str]:
    with app.app_context(), tenant_context(tenant.id):
        return sorted(o.value_text for o in db.session.scalars(select(Observation).where(
            Observation.patient_id == patient_id, Observation.superseded_by.is_(None))))


def test_trends_page_charts_each_indicator_and_marks_changes(make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    years = [("20210510", "5.0", ""), ("20220510", "6.8", "H"), ("20230510", "7.2", "H"), ("20240510", "5.5", "")]
    messages = "".join(oru(patient.card_no, day, [("14771-0", value, "mmol/L", flag), ("2093-3", "4.6", "mmol/L", "")],
                           f"Y{day}") for day, value, flag in years)
    upload = client.submit(f"/patients/{patient.id}/import", {"file": (_file(messages), "checkups.hl7")},
                           content_type="multipart/form-data")
    assert upload.status_code == 200, upload.get_data(as_text=True)[:800]
    client.submit("/lang/en")
    page = client.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    for day in ("2021-05-10", "2022-05-10", "2023-05-10", "2024-05-10"):
        assert f">{day}</th>" in page
    row = page[page.index("Fasting glucose"):]
    row = row[:row.index("</tr>")]
    assert [m for m in re.findall(r"change-(\w+)", row)] == ["new", "persisting", "resolved"]
    assert page.count("<svg") == 2  # glucose and total cholesterol
    chart = page[page.index('aria-label="Fasting glucose'):]
    chart = chart[:chart.index("</svg>")]
    assert 'class="band"' in chart and chart.count("marker abnormal high") == 2 and chart.count("marker normal") == 2
    only_lipids = client.get(f"/patients/{patient.id}/records?group=lipids").get_data(as_text=True)
    assert only_lipids.count("<svg") == 1 and "Fasting glucose</th>" not in only_lipids


def test_entry_keeps_typing_and_refuses_a_bad_unit_whole(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    page = client.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    ids = {name: re.search(rf'<label for="v-(\d+)">{name}</label>', page).group(1)
           for name in ("Height", "Weight", "Fasting glucose")}
    no_date = client.submit(f"/patients/{patient.id}/observations", {f"v-{ids['Weight']}": "70"})
    assert no_date.status_code == 400 and 'value="70"' in no_date.get_data(as_text=True)
    bad = client.submit(f"/patients/{patient.id}/observations", {
        "observed_on": "2024-06-01", f"v-{ids['Weight']}": "70",
        f"v-{ids['Fasting glucose']}": "5.6", f"u-{ids['Fasting glucose']}": "furlong"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Nothing was saved" in text
    assert f'id="e-{ids["Fasting glucose"]}"' in text and 'value="5.6"' in text and 'value="70"' in text
    assert _values(app, tenant, patient.id) == []
    impossible = client.submit(f"/patients/{patient.id}/observations", {
        "observed_on": "2024-06-01", f"v-{ids['Height']}": "1750", f"v-{ids['Weight']}": "70"})
    text = impossible.get_data(as_text=True)  # 1750 cm: a typing slip, refused beside the field
    assert impossible.status_code == 400 and f'id="e-{ids["Height"]}"' in text and "plausible" in text
    assert 'value="1750"' in text and _values(app, tenant, patient.id) == []
    good = client.submit(f"/patients/{patient.id}/observations", {
        "observed_on": "2024-06-01", f"v-{ids['Height']}": "175", f"v-{ids['Weight']}": "70"})
    assert good.status_code == 302
    assert _values(app, tenant, patient.id) == ["175", "22.9", "70"]  # BMI computed


CSV = ("体检号,姓名,体检日期,空腹血糖(mmol/L),甘油三酯,单位备注\n"
       "{card},张明华,2024-03-01,6.8,1.2,x\n")


def test_mapping_saved_from_a_sample_then_used_for_import(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    data = CSV.format(card=patient.card_no).encode()
    not_a_table = client.submit("/records/mappings/", {"file": (_file(b"\x00\x01\x02binary"), "x.csv")},
                                content_type="multipart/form-data")
    assert not_a_table.status_code == 400 and "binary" in not_a_table.get_data(as_text=True)
    form = client.submit("/records/mappings/", {"file": (_file(data), "sunshine.csv")},
                         content_type="multipart/form-data").get_data(as_text=True)
    assert '<option selected>体检号</option>' in form and '<option selected>体检日期</option>' in form
    headers = ["体检号", "姓名", "体检日期", "空腹血糖(mmol/L)", "甘油三酯", "单位备注"]
    fields = {"headers": headers, "layout": "wide", "col-card_no": "体检号", "col-name": "姓名",
              "ind-3": "14771-0", "ind-4": "14927-8", "unit-4": "mmol/L"}
    missing = client.submit("/records/mappings/save", dict(fields, name="阳光体检"))
    text = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "Choose the column with the exam date." in text
    assert 'value="阳光体检"' in text and '<option selected>体检号</option>' in text  # kept
    saved = client.submit("/records/mappings/save", dict(fields, name="阳光体检", **{"col-exam_date": "体检日期"}))
    assert saved.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        mapping_id = db.session.scalar(select(TableMapping.id).where(TableMapping.name == "阳光体检"))
    clash = client.submit("/records/mappings/save", dict(fields, name="阳光体检", **{"col-exam_date": "体检日期"}))
    assert clash.status_code == 400 and "Another mapping already has this name." in clash.get_data(as_text=True)

    result = client.submit("/records/import", {"file": (_file(data), "sunshine-2024.csv"), "mapping": str(mapping_id)},
                           content_type="multipart/form-data")
    assert result.status_code == 200, result.get_data(as_text=True)[:1000]
    assert _values(app, tenant, patient.id) == ["1.2", "6.8"]
    other = make_tenant()
    assert client_for(other, other.owner_email).get(f"/records/mappings/{mapping_id}").status_code == 404


@pytest.mark.redis
def test_a_large_file_imports_in_a_job_with_progress(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patients = [make_patient(tenant) for _ in range(3)]
    messages = "".join(oru(p.card_no, f"{2000 + n}0101", [("14771-0", f"5.{n % 10}", "mmol/L", "")] * 1 +
                           [("2093-3", "4.4", "mmol/L", ""), ("14927-8", "1.1", "mmol/L", "")], f"B{i}-{n}")
                       for i, p in enumerate(patients) for n in range(20))
    messages += oru("NOBODY", "20240101", [("14771-0", "5.0", "mmol/L", "")], "UNMATCHED")
    messages += "MSH|^~\\&|LIS\rPID|1\r"  # a broken message: its own error, the others import
    payload = messages.encode() * 1
    padding = b"\r" * max(0, 300 * 1024 - len(payload))
    client = client_for(tenant, tenant.owner_email)
    client.submit("/lang/en")
    started = client.submit("/records/import", {"file": (_file(payload + padding), "big.hl7")},
                            content_type="multipart/form-data")
    text = started.get_data(as_text=True)
    assert started.status_code == 200 and "<progress" in text
    run_id = re.search(r'id="job-(\d+)"', text).group(1)
    done = _work_until_done(app, client, run_id)
    assert "Imported 60 reports (180 results)" in done and "1 waiting for a patient" in done and "1 error." in done
    assert "hx-trigger" not in done
    assert len(_values(app, tenant, patients[0].id)) == 60


def _work_until_done(app, client, run_id: str, seconds: float = 60.0) -> str:
    """Run queued jobs until the run's status fragment stops polling: the job
    may have been taken by another worker of this run (a browser test's)."""
    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            queues = [jobs.queue(name) for name in jobs.QUEUES]
            SimpleWorker(queues, connection=jobs.redis_connection()).work(burst=True)
        page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
        if "hx-trigger" not in page or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


def _file(data):
    import io

    return io.BytesIO(data.encode() if isinstance(data, str) else data)


def test_a_bad_report_is_named_in_the_clinic_language(make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)  # zh_CN, the default
    good = oru(patient.card_no, "20240510", [("14771-0", "5.6", "mmol/L", "")], "OK1")
    truncated = oru(patient.card_no, "20240511", [], "BAD1") + "OBX|1|NM|2093-3^^LN\r"
    upload = client.submit(f"/patients/{patient.id}/import", {"file": (_file(good + truncated), "checkups.hl7")},
                           content_type="multipart/form-data")
    page = upload.get_data(as_text=True)
    assert "已导入 1 份报告（1 项结果）" in page
    assert "第 2 条消息（MSH-10 BAD1）：该医嘱的所有 OBX 均为空（OBX-5 没有结果值）" in page
