"""A printed report reaches the patient's portal only when a doctor releases it; the patient is told it is
ready without any health content, reads the list on a phone and downloads the PDF, and the download shows in
their "who viewed my record" page."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.notifications.models import Notification
from tenants.context import tenant_context
from tenants.db import db
from tests.pdfs import poppler, work_off
from tests.reports.test_health_report import _two_exams

MOBILE = "13912340001"


@pytest.mark.redis
def test_release_then_read_and_download_in_the_portal(app, make_tenant, make_patient, make_staff, client_for,
                                                      patient_client):
    tenant = make_tenant("康宁健康管理中心")
    patient = make_patient(tenant, name="欧阳娜娜", sex="F", birth_date=date(1970, 3, 8), mobile=MOBILE)
    _two_exams(app, tenant, patient)
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)
    assert desk.submit(f"/patients/{patient.id}/reports", data={"exam_date": "2026-06-02"}).status_code == 302
    work_off(app)
    listed = desk.get(f"/patients/{patient.id}/reports").get_data(as_text=True)
    report_id = re.search(rf"/patients/{patient.id}/reports/(\d+)/download", listed).group(1)
    assert "Release to the patient" not in listed and "医生" in listed  # the desk prints; a doctor releases
    assert desk.submit(f"/patients/{patient.id}/reports/{report_id}/release").status_code == 403

    portal = patient_client(tenant, MOBILE)
    assert "没有" in portal.get("/portal/reports").get_data(as_text=True)
    assert "7.40" not in portal.get("/portal/results").get_data(as_text=True)  # waiting for a doctor
    assert portal.get(f"/portal/reports/{report_id}.pdf").status_code == 404  # printed, not released

    doctor = client_for(tenant, make_staff(tenant, "doctor").email)
    for _twice in range(2):
        assert doctor.submit(f"/patients/{patient.id}/reports/{report_id}/release").status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        sent = db.session.scalars(select(Notification).where(Notification.template_key == "report_ready")).all()
        assert len(sent) == 1  # released once, told once (a mobile only: one text)
        assert "2026-06-02" in sent[0].body_text and "欧阳娜娜" in sent[0].body_text
        assert not re.search(r"血糖|血压|偏高|7\.4", sent[0].body_text)  # nothing of the results

    page = portal.get("/portal/reports").get_data(as_text=True)
    assert "2026-06-02" in page and 'aria-current="page"' in page
    results = portal.get("/portal/results").get_data(as_text=True)
    assert "7.40" in results and "5.20" not in results  # the report's day goes with it; last year's still waits
    reading = portal.get(f"/portal/reports/{report_id}").get_data(as_text=True)
    assert "空腹血糖" in reading and "高于参考区间（&lt; 6.10 mmol/L）的上限" in reading and "本次新出现" in reading
    download = portal.get(f"/portal/reports/{report_id}.pdf")
    assert download.status_code == 200 and "欧阳娜娜" in poppler("pdftotext", download.data)
    access = portal.get("/portal/record-access").get_data(as_text=True)
    assert "您" in access or "You" in access
    assert re.search(r"下载|Downloaded their health report", access)

    # another patient of the clinic, and another clinic's patient, get nothing of it
    make_patient(tenant, name="旁人", mobile="13912340002")
    other = patient_client(tenant, "13912340002")
    assert other.get(f"/portal/reports/{report_id}.pdf").status_code == 404
    assert other.get(f"/portal/reports/{report_id}").status_code == 404
    assert report_id not in other.get("/portal/reports").get_data(as_text=True)
    elsewhere = make_tenant()
    make_patient(elsewhere, name="欧阳娜娜", mobile=MOBILE)
    stranger = patient_client(elsewhere, MOBILE)
    assert stranger.get(f"/portal/reports/{report_id}.pdf").status_code == 404
