"""Lists as files and print layouts: the patient list (with its filters),
the day's schedule, follow-up tasks and alerts as CSV and XLSX, identifiers
masked for roles that may not see them, every export audited; the schedule
and a patient's follow-up history print."""
import io
from datetime import time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.core import identity
from app.core.audit import AuditEvent
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]

FIRST17 = "11010519800517001"  # born 1980-05-17, a man, as make_patient says
ID_NUMBER = FIRST17 + identity.check_char(FIRST17)


def _audits(app, tenant, action):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.at)).all()


@pytest.fixture
def clinic(make_tenant, make_patient):
    tenant = make_tenant()
    chen = make_patient(tenant, name="陈导出", mobile="13912345678", id_number=ID_NUMBER)
    make_patient(tenant, name="刘其他", mobile="13787654321")
    return tenant, chen


def test_patient_csv_has_bom_filters_and_masks_by_role(app, clinic, make_staff, client_for):
    tenant, chen = clinic
    manager = client_for(tenant, make_staff(tenant, "health_manager").email)  # may not see ID numbers
    response = manager.get("/patients/export?format=csv&q=陈导出")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 2 and "陈导出" in lines[1] and "刘其他" not in text  # the list's filter holds
    assert identity.mask_id(ID_NUMBER) in lines[1] and ID_NUMBER not in text
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)  # may see them
    text = desk.get("/patients/export?format=csv&q=陈导出").data.decode("utf-8")
    assert ID_NUMBER in text and "13912345678" in text
    [first, second] = _audits(app, tenant, "list_exported")
    assert first.detail == {"list": "patients", "format": "csv", "rows": 1, "masked": ["id_number"],
                            "filters": {"q": "陈导出", "tags": [], "archived": False}}
    assert second.detail["masked"] == []


def test_patient_xlsx_opens_with_every_row(clinic, client_for):
    tenant, _chen = clinic
    response = client_for(tenant, tenant.owner_email).get("/patients/export?format=xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("卡号", "姓名") and sorted(r[1] for r in rows[1:]) == sorted(["陈导出", "刘其他"])
    assert client_for(tenant, tenant.owner_email).get("/patients/export?format=pdf").status_code == 400


def test_schedule_exports_and_prints(app, clinic, make_staff, client_for):
    from app.booking import services as booking
    from app.patients import services as patients

    tenant, chen = clinic
    day = clinic_today() + timedelta(days=3)
    while day.weekday() == 6:
        day += timedelta(days=1)
    with app.app_context(), tenant_context(tenant.id):
        package = booking.save_package(booking.PackageData(name="入职体检", price="300", items="血常规"))
        slot = booking.availability.slots_for(day, day)[day][0]
        order = booking.book(package.id, day, slot.start, patients.get(chen.id), idempotency_key="export")
        db.session.commit()
        order_no = order.order_no
    desk = client_for(tenant, make_staff(tenant, "front_desk").email)
    page = desk.get(f"/booking/schedule?day={day.isoformat()}").get_data(as_text=True)
    assert "/booking/schedule/print?day=" in page and "/booking/schedule/export?day=" in page
    sheet = load_workbook(io.BytesIO(desk.get(f"/booking/schedule/export?day={day.isoformat()}&format=xlsx").data),
                          read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "陈导出" and rows[1][5] == order_no
    printed = desk.get(f"/booking/schedule/print?day={day.isoformat()}")
    html = printed.get_data(as_text=True)
    assert printed.status_code == 200 and order_no in html and 'id="print-button"' in html
    assert "css/print.css" in html and "js/print.js" in html and "<script>" not in html
    assert [e.detail["list"] for e in _audits(app, tenant, "list_printed")] == ["schedule"]
    assert time(0) <= slot.start


def test_followup_exports_and_history_print(app, clinic, make_staff, client_for):
    from app.followups import plans, triggers
    from app.followups import services as followups

    tenant, chen = clinic
    manager = make_staff(tenant, "health_manager")
    with app.app_context(), tenant_context(tenant.id):
        plan = plans.save(plans.check(plans.PlanDraft(name="高血压随访", trigger="enrolment", offsets="0, 7")))
        triggers.enrol(plan, chen.id, started_by="test")
        for task in followups.tasks_of_patient(chen.id):
            task.assignee_id = manager.id
        task = followups.tasks_of_patient(chen.id)[0]
        followups.record_contact(task, followups.ContactData(result="reached", notes="血压平稳",
                                                             version=str(task.version)), actor_id=manager.id)
        db.session.commit()
    client = client_for(tenant, manager.email)
    assert "/followups/export?scope=mine" in client.get("/followups").get_data(as_text=True)
    text = client.get("/followups/export?scope=mine&format=csv").data.decode("utf-8")
    assert text.startswith("\ufeff") and "陈导出" in text and "高血压随访" in text
    assert client.get("/followups/export?scope=overdue&format=csv").status_code == 403  # managers of follow-ups only
    owner = client_for(tenant, tenant.owner_email)
    assert owner.get("/followups/export?scope=overdue&format=xlsx").status_code == 200
    printed = client.get(f"/patients/{chen.id}/followups/print")
    html = printed.get_data(as_text=True)
    assert printed.status_code == 200 and "血压平稳" in html and "高血压随访" in html and "13912345678" not in html
    assert "print" in client.get(f"/patients/{chen.id}/followups").get_data(as_text=True)
    events = _audits(app, tenant, "list_printed")
    assert [(e.detail["list"], e.patient_id) for e in events] == [("followup_history", chen.id)]


def test_alert_export_keeps_filters(app, clinic, make_staff, client_for):
    from datetime import datetime, timezone

    from app.patients import services as patients
    from app.records import services as records

    tenant, chen = clinic
    with app.app_context(), tenant_context(tenant.id):
        glucose = records.indicator_by_code("14771-0")
        records.store(patients.get(chen.id), records.Value(glucose, "30", "mmol/L", datetime.now(timezone.utc)))
        db.session.commit()
    doctor = client_for(tenant, make_staff(tenant, "doctor").email)
    page = doctor.get("/alerts?status=all").get_data(as_text=True)
    assert "/alerts/export?" in page
    text = doctor.get("/alerts/export?format=csv&status=all").data.decode("utf-8")
    assert text.startswith("\ufeff")
    [event] = _audits(app, tenant, "list_exported")
    assert event.detail["list"] == "alerts" and event.detail["filters"]["status"] == "all"
    assert event.detail["rows"] == len(text.strip().splitlines()) - 1
    assert client_for(tenant, make_staff(tenant, "front_desk").email).get(
        "/alerts/export?format=csv").status_code == 403
