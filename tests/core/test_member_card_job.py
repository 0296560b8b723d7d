"""The member card: an RQ job renders a PDF with Chinese text, stored under
the tenant's prefix and served only to that tenant's staff."""
import re

import pytest

from app.core import jobs
from tenants.db import db
from tests.pdfs import poppler, work_off


@pytest.mark.redis
def test_card_pdf_job_end_to_end(app, make_tenant, make_patient, make_staff, client_for):
    tenant = make_tenant("康宁健康管理中心")
    patient = make_patient(tenant, name="欧阳娜娜", sex="F")
    client = client_for(tenant, tenant.owner_email)
    started = client.submit(f"/patients/{patient.id}/card", headers={"HX-Request": "true"})
    assert started.status_code == 202
    run_id = re.search(r'id="job-(\d+)"', started.get_data(as_text=True)).group(1)
    polling = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert 'hx-trigger="load delay' in polling  # still queued: the fragment polls itself

    work_off(app)

    done = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert f"/jobs/{run_id}/download" in done and "hx-trigger" not in done
    download = client.get(f"/jobs/{run_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = poppler("pdftotext", download.data)
    assert "康宁健康管理中心" in text and "欧阳娜娜" in text and patient.card_no in text

    # another clinic's staff get nothing, a role without the permission neither
    other = make_tenant()
    outsider = client_for(other, other.owner_email)
    assert outsider.get(f"/jobs/{run_id}").status_code == 404
    assert outsider.get(f"/jobs/{run_id}/download").status_code == 404
    doctor = client_for(tenant, make_staff(tenant, "doctor").email)
    assert doctor.get(f"/jobs/{run_id}/download").status_code == 403

    client.submit("/lang/en")
    audit = client.get(f"/audit?patient={patient.id}").get_data(as_text=True)
    assert "Printed a member card" in audit and "Downloaded a file" in audit


@pytest.mark.redis
def test_failed_job_shows_its_reason(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant.id):
        run = jobs.start("member_card", "app.patients.jobs.render_member_card", patient_id=patient.id + 1)
        run_id = run.id
    work_off(app)
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "patient not found" in page
    assert client.get(f"/jobs/{run_id}/download").status_code == 404


def test_storage_keys_stay_under_the_tenant_prefix():
    from app.core import storage

    key = storage.new_key(42, "cards", ".pdf")
    assert storage.belongs_to(key, 42) and not storage.belongs_to(key, 4)
    assert not storage.belongs_to("tenants/42/../43/x.pdf", 42)


def test_embedded_worker_runs_jobs_without_redis(app, make_tenant, make_patient):
    """`make run` with no REDIS_URL: in-process fakeredis, worker in a thread."""
    import time

    from app import create_app
    from tenants.context import tenant_context

    embedded = create_app(dict(app.config, REDIS_URL=None))
    tenant = make_tenant()
    patient = make_patient(tenant)
    worker = jobs.start_worker_thread(embedded)
    try:
        with embedded.app_context(), tenant_context(tenant.id):
            run = jobs.start("member_card", "app.patients.jobs.render_member_card", patient_id=patient.id)
            assert type(embedded.extensions["careloop_redis"]).__name__ == "FakeRedis"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                db.session.expire_all()
                if jobs.get_run(run.id).done:
                    break
                time.sleep(0.2)
            final = jobs.get_run(run.id)
            assert final.status == "finished", final.message
    finally:
        worker.stop()
