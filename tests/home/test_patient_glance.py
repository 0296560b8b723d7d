"""The patient page at a glance, the follow-up task page and the clinic profile's new fields
(PostgreSQL, RLS on)."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import services as staff
from app.booking.models import Order
from app.core import clock
from app.followups import services as followups
from app.followups.models import FollowupPlan, FollowupTask
from app.patients import services as patients
from app.patients.models import Patient
from app.records.models import Alert
from tenants.context import tenant_context
from tenants.db import db

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_patient_header_shows_the_facts_at_a_glance_and_critical_values(app, demo, signed_in):
    with app.app_context(), tenant_context(demo.id):
        order = db.session.scalar(select(Order).where(Order.day == clock.today(), Order.status == "pay_at_clinic"))
        patient = db.session.get(Patient, (demo.id, order.patient_id))
        followups.add_task(patient.id, assignee_id=None, due_date=clock.today() + timedelta(days=9))
        critical = db.session.scalar(select(Alert).where(Alert.kind == "critical", Alert.status == "open"))
        db.session.commit()
        doctor_name = staff.get_staff(patient.responsible_doctor_id).name
        manager_name = staff.get_staff(patient.health_manager_id).name
        next_due = followups.next_due([patient.id])[patient.id]
        age = patient.age
        order_id, patient_id, card_no, critical_patient = order.id, patient.id, patient.card_no, critical.patient_id
    page = signed_in("doctor").get(f"/patients/{patient_id}").get_data(as_text=True)
    glance = page[page.index('id="glance"'):page.index("</dl>", page.index('id="glance"'))]
    assert f"{age} 岁" in glance and card_no in glance
    assert doctor_name in glance and manager_name in glance
    assert f"/booking/orders/{order_id}" in glance  # the next booking is today's
    assert "下次随访" in glance and next_due.strftime("%Y") in glance
    assert "上次到检" in glance and "暂无" in glance
    assert "data-critical" not in page or critical_patient == patient_id
    other = signed_in("doctor").get(f"/patients/{critical_patient}").get_data(as_text=True)
    assert "data-critical" in other and "尚未确认的危急值" in other
    assert other.index("data-critical") < other.index("<h2>")
    desk = signed_in("front_desk").get(f"/patients/{critical_patient}").get_data(as_text=True)
    assert "data-critical" not in desk  # front desk does not see alerts


def test_patient_followups_are_a_full_page_when_opened_directly(app, demo, signed_in):
    with app.app_context(), tenant_context(demo.id):
        task = db.session.scalar(select(FollowupTask).where(FollowupTask.status == "pending"))
    client = signed_in("health_manager")
    page = client.get(f"/patients/{task.patient_id}/followups").get_data(as_text=True)
    assert page.lstrip().startswith("<!doctype html>") and "<h1>" in page and "<title>患者 · " in page
    fragment = client.get(f"/patients/{task.patient_id}/followups",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and f"/followups/tasks/{task.id}" in fragment


def test_task_page_shows_the_masked_phone_the_plans_script_readings_and_earlier_contacts(app, demo, signed_in):
    with app.app_context(), tenant_context(demo.id):
        plan = db.session.scalars(select(FollowupPlan)).first()
        plan.script = "询问近一周血压\n提醒按时服药"
        done = db.session.scalar(select(FollowupTask).where(FollowupTask.status == "done"))
        task = followups.add_task(done.patient_id, assignee_id=done.assignee_id, due_date=clock.today(),
                                  plan_id=plan.id)
        db.session.commit()
        mobile = patients.identifiers(patients.get(task.patient_id))[0]
        task_id, done_id = task.id, done.id
    page = signed_in("health_manager").get(f"/followups/tasks/{task_id}").get_data(as_text=True)
    assert re.search(re.escape(mobile[:3]) + r"\*\*\*\*" + mobile[-4:], page) and mobile not in page
    assert f'hx-post="/followups/tasks/{task_id}/phone"' in page
    assert "<li>询问近一周血压</li>" in page and "<li>提醒按时服药</li>" in page
    readings = page[page.index('id="readings-h"'):]
    assert "空腹血糖" in readings or "体重" in readings  # the demo's checkups
    earlier = page[page.index('id="earlier-h"'):]
    assert "已联系上" in earlier and f"/followups/tasks/{done_id}" in earlier


def test_plan_script_is_saved_from_the_plan_form(app, demo, signed_in):
    admin = signed_in("admin")
    with app.app_context(), tenant_context(demo.id):
        plan = db.session.scalars(select(FollowupPlan)).first()
        draft = followups.plans.PlanDraft.of(plan)
    form = {"name": draft.name, "trigger": draft.trigger, "trigger_tag": draft.trigger_tag, "schedule": draft.schedule,
            "interval_days": draft.interval_days, "duration_months": draft.duration_months, "offsets": draft.offsets,
            "channel": draft.channel, "max_attempts": draft.max_attempts, "active": "y", "script": "问：最近睡眠如何？"}
    assert admin.submit(f"/followups/plans/{plan.id}", form).status_code == 302
    too_long = admin.submit(f"/followups/plans/{plan.id}", dict(form, script="长" * 2001))
    assert too_long.status_code == 422 and 'id="script-error"' in too_long.get_data(as_text=True)
    with app.app_context(), tenant_context(demo.id):
        assert db.session.get(FollowupPlan, (demo.id, plan.id)).script == "问：最近睡眠如何？"


def test_clinic_profile_keeps_address_phone_and_a_logo_checked_by_its_content(app, demo, signed_in):
    owner = signed_in("owner")
    saved = owner.submit("/settings/clinic", {"timezone": "Asia/Shanghai", "address": "上海市黄浦区人民路 1 号",
                                              "phone": "021-6000 1234", "logo": (io.BytesIO(PNG), "logo.png")},
                         content_type="multipart/form-data")
    assert saved.status_code == 302
    logo = owner.get("/settings/clinic/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == PNG
    page = owner.get("/settings/clinic").get_data(as_text=True)
    assert "上海市黄浦区人民路 1 号" in page and "021-6000 1234" in page and 'src="/settings/clinic/logo"' in page
    fake = owner.submit("/settings/clinic", {"timezone": "Asia/Shanghai", "address": "x", "phone": "1",
                                             "logo": (io.BytesIO(b"<svg onload=alert(1)>"), "logo.png")},
                        content_type="multipart/form-data")
    assert fake.status_code == 400 and "PNG 或 JPEG" in fake.get_data(as_text=True)
    assert owner.get("/settings/clinic/logo").data == PNG  # the refused upload changed nothing
    assert signed_in("admin").get("/settings/clinic").status_code == 403
