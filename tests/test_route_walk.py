"""Every route the app registers, as every role of clinic A, aimed at clinic
B's objects: the answer is 403 or 404 and nothing of B shows. New routes join
this walk automatically; a new id argument needs an entry in ``_b_ids``."""
import secrets
from datetime import date

import pytest
from sqlalchemy import select

from app.core.access import ROLES
from app.core.jobs import JobRun
from app.patients import services as patients
from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today

SKIP_ENDPOINTS = {"static", "auth.logout"}  # signing out would end the walk's session
ARG_SAMPLES = {"code": "en", "key": "signin_code", "channel": "sms", "locale": "zh_CN", "action": "check_in",
               "model_id": "framingham_cvd", "index": 0,
               "reset_token": "no-such-link", "figure": "tags"}


@pytest.fixture
def clinic_b(app, make_tenant, make_staff, make_patient):
    b = make_tenant("乙方秘密诊所", slug="bq" + secrets.token_hex(4))  # card prefix BQ: unlike A's
    patient = make_patient(b, name="乙方病人", mobile="13599998888")
    staff = make_staff(b, "doctor", email="secret.doctor@b.test")
    with app.app_context(), tenant_context(b.id):
        p = db.session.get(Patient, (b.id, patient.id))
        item = patients.add_history(p, kind="allergy", description="乙方过敏史", since_year=None)
        run = JobRun(kind="member_card", patient_id=patient.id, status="finished",
                     result_key=f"tenants/{b.id}/cards/x.pdf", result_name="card-b.pdf")
        db.session.add(run)
        from app.auth.models import StaffUser
        from app.notifications import services as notifications
        from app.notifications.unsubscribe import make_token

        doctor = db.session.get(StaffUser, (b.id, staff.id))
        message = notifications.notify("abnormal_result_alert", notifications.staff_recipient(doctor),
                                       {"patient_name": "乙方病人", "card_no": patient.card_no, "indicator": "x",
                                        "value": "1", "flag": "H", "items": "x", "count": 1, "clinic": "乙方秘密诊所"},
                                       idempotency_key="walk", channels=("inapp",))[0]
        from datetime import datetime, timezone

        from app.records import api_tokens
        from app.records import services as records
        from app.records.models import Alert, AlertItem, ExamReport, TableMapping

        report = ExamReport(source="hl7", source_key="walk", status="unmatched", pending={},
                            patient_hint="乙方病人", title="乙方报告")
        db.session.add(report)
        glucose = records.indicator_by_code("14771-0")
        stored = records.store(p, records.Value(glucose, "9.9", "mmol/L", datetime(2025, 1, 1, tzinfo=timezone.utc)))
        alert = Alert(patient_id=patient.id, group_key="walk", kind="critical", summary="乙方异常结果", item_count=1,
                      escalated_to=[])
        token, _plain = api_tokens.create("乙方系统", ["hl7:write"], None)
        db.session.add(alert)
        db.session.flush()
        db.session.add(AlertItem(alert_id=alert.id, observation_id=stored.observation.id, kind="critical", flag="HH",
                                 summary="乙方异常结果"))
        later = records.store(p, records.Value(glucose, "7.5", "mmol/L", datetime(2025, 2, 1, tzinfo=timezone.utc)))
        abnormal = Alert(patient_id=patient.id, group_key="walk-2", kind="abnormal", summary="乙方异常结果",
                         item_count=1, escalated_to=[])  # an open abnormal alert: the bulk form is offered
        db.session.add(abnormal)
        db.session.flush()
        db.session.add(AlertItem(alert_id=abnormal.id, observation_id=later.observation.id, kind="abnormal",
                                 flag="H", summary="乙方异常结果"))
        mapping = TableMapping(name="乙方映射", mapping={"layout": "wide", "headers": ["乙方列"]})
        db.session.add(mapping)
        from app.core import sessions

        sessions.start("staff", staff.id, user_agent="乙方浏览器")
        db.session.flush()
        session_row = db.session.scalar(select(sessions.ServerSession))
        db.session.commit()
        ids = {"patient_id": patient.id, "item_id": item.id, "run_id": run.id, "staff_id": staff.id,
               "notification_id": message.id, "token": make_token(message), "report_id": report.id,
               "alert_id": alert.id, "token_id": token.id, "mapping_id": mapping.id,
               "target_id": patient.id, "session_id": session_row.id, "indicator_id": glucose.id}
    markers = ["乙方秘密诊所", "乙方病人", patient.card_no, "secret.doctor@b.test", "13599998888",
               "乙方过敏史", "card-b.pdf", "乙方报告", "乙方异常结果", "乙方系统", "乙方映射", "乙方列", "乙方浏览器"]
    ids.update(_tagging_ids(app, b, patient.id))
    markers += ["乙方规则", "乙方手工标签"]
    followup_ids, followup_markers = _followup_ids(app, b, patient.id)
    ids.update(followup_ids)
    markers += followup_markers
    booking_ids, booking_markers = _booking_ids(app, b, patient.id)
    ids.update(booking_ids)
    markers += booking_markers
    ids.update(_questionnaire_ids(app, b, patient.id))
    markers += ["乙方问卷答案", "乙方回访意见", "乙方问诊表"]
    ids.update(_care_plan_ids(app, b, patient.id))
    markers += ["乙方健康计划"]
    ids.update(_advice_ids(app, b, patient.id))
    markers += ["乙方建议条目", "乙方建议正文"]
    ids.update(_health_report_ids(app, b, patient.id))
    markers += ["health-report-b.pdf", "乙方总结正文", "乙方总结草稿", "乙方批次"]
    return b, ids, markers


def _care_plan_ids(app, b, patient_id):
    """B's care plan, with a goal and an action, ticked once."""
    from app.interventions.plan_models import CareAdherence, CarePlan

    with app.app_context(), tenant_context(b.id):
        today = clinic_today()
        plan = CarePlan(patient_id=patient_id, kind="intervention", template_key="hypertension", title="乙方健康计划",
                        status="active", start_date=today, end_date=today, basis={}, scheduled={},
                        goals=[{"key": "systolic", "code": "8480-6", "comparator": "lt", "target": 130,
                                "unit": "mm[Hg]", "due": today.isoformat(), "source": "cn_htn_2018"}],
                        actions=[{"key": "walk", "kind": "exercise", "per_week": 5, "minutes": 30,
                                  "text": {"zh": "乙方健康计划", "en": "乙方健康计划"}}])
        db.session.add(plan)
        db.session.flush()
        db.session.add(CareAdherence(plan_id=plan.id, action_key="walk", day=today))
        db.session.commit()
        return {"plan_id": plan.id}


def _health_report_ids(app, b, patient_id):
    """A health report B printed (its file under B's prefix), B's signed and draft stage summaries, a batch."""
    from app.core import storage
    from app.reports.models import HealthReport, ReportBatch, StageSummary
    from tenants.ids import new_id

    with app.app_context(), tenant_context(b.id):
        key = storage.new_key(b.id, "reports", ".pdf")
        storage.backend().save(key, b"%PDF-1.4 B's report")
        report = HealthReport(patient_id=patient_id, exam_date=date(2025, 1, 1), storage_key=key,
                              file_name="health-report-b.pdf", pages=1, size_bytes=19)
        db.session.add(report)
        signed_id, draft_id = new_id(), new_id()
        summary = StageSummary(id=signed_id, patient_id=patient_id, chain_id=signed_id, period_kind="year",
                               period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                               draft_text="乙方总结正文", text="乙方总结正文", status="signed")
        draft = StageSummary(id=draft_id, patient_id=patient_id, chain_id=draft_id, period_kind="year",
                             period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
                             draft_text="乙方总结草稿", text="乙方总结草稿")
        batch = ReportBatch(title="乙方批次", selection={"kind": "day", "day": "2025-01-01"},
                            items=[[patient_id, "2025-01-01"]])
        db.session.add_all([summary, draft, batch])  # a signed summary, and a draft that offers its form
        db.session.commit()
        return {"health_report_id": report.id, "summary_id": summary.id, "batch_id": batch.id}


def _advice_ids(app, b, patient_id):
    """B's own advice item and a draft advice sheet with one entry."""
    from app.interventions import advice_library
    from app.interventions.advice_models import AdviceSheet

    with app.app_context(), tenant_context(b.id):
        item = advice_library.save(None, advice_library.ItemData(
            category="diet", title_zh="乙方建议条目", title_en="乙方建议条目", body_zh="乙方建议正文",
            body_en="乙方建议正文", source="乙方", conditions={"any": []}), actor_id=None)
        sheet = AdviceSheet(patient_id=patient_id, status="draft", entries=[{
            "item_id": item.id, "item_key": item.key, "version": 1, "category": "diet", "title": "乙方建议条目",
            "body": "乙方建议正文", "source": "乙方", "reasons": [{"everyone": True}], "needs": [], "edited": False}],
            numbers={})
        db.session.add(sheet)
        db.session.commit()
        return {"advice_item_id": item.id, "sheet_id": sheet.id}


def _questionnaire_ids(app, b, patient_id):
    """B's questionnaire, a submitted response with an intake proposal of its own, an open
    service-recovery case on it, and an intake form of its own that its package requires."""
    from app.booking import services as booking
    from app.patients import services as patients
    from app.questionnaires import intake, library, responses
    from app.questionnaires.models import HistoryProposal, Questionnaire, RecoveryCase
    from tests.questionnaires.helpers import choice, defn

    with app.app_context(), tenant_context(b.id):
        library.sync_pack()
        form = Questionnaire(key="walk_intake", kind="intake", title_zh="乙方问诊表", title_en="乙方问诊表")
        db.session.add(form)
        db.session.flush()
        library._add_version(form, dict(defn(choice("smoke", (0, 1))), key="walk_intake", kind="intake",
                                        title={"zh": "乙方问诊表", "en": "乙方问诊表"}), actor_id=None)
        intake.set_mapping({p.id: str(form.id) for p in booking.list_packages(active_only=False)}, actor_id=None)
        questionnaire = library.by_key("phq9")
        response = responses.request(questionnaire, patients.get(patient_id), channel="staff")
        proposal = HistoryProposal(response_id=response.id, patient_id=patient_id, field="history:allergy",
                                   value={"value": "乙方问卷答案"}, question="allergies", status="pending")
        db.session.add(proposal)
        recovery = RecoveryCase(response_id=response.id, patient_id=patient_id, recommend=3, reason="recommend",
                                comment="乙方回访意见", status="open")
        db.session.add(recovery)
        from app.questionnaires import builder

        draft = builder.start_draft(questionnaire)  # the builder's forms, with a score it edits
        band = {"key": "b1", "min": 0, "max": 6, "label": {"zh": "全", "en": "All"}}
        draft["scores"] = [*draft["scores"], {"key": "walk_sum", "label": {"zh": "合计", "en": "Sum"},
                                              "method": "sum", "items": ["q1", "q2"], "bands": [band]}]
        questionnaire.draft = draft
        db.session.commit()
        return {"questionnaire_id": questionnaire.id, "response_id": response.id, "proposal_id": proposal.id,
                "case_id": recovery.id, "version_id": library.current_version(questionnaire).id,
                "question_key": "q1", "section_key": "main", "score_key": "walk_sum"}


def _booking_ids(app, b, patient_id):
    """B's exam package, an order, a slot, a date change and a closed day."""
    from datetime import time, timedelta

    from app.booking import services as booking
    from app.patients import services as patients_services

    day = clinic_today() + timedelta(days=3)
    while day.weekday() == 6:
        day += timedelta(days=1)
    with app.app_context(), tenant_context(b.id):
        package = booking.save_package(booking.PackageData(name="乙方套餐", price="1", items="乙方项目"))
        order = booking.book(package.id, day, time(7, 30), patients_services.get(patient_id), idempotency_key="walk")
        override = booking.add_override(day, time(12, 0), time(13, 0), 1)
        closed = booking.add_closed_day(day + timedelta(days=20), "乙方假日")
        slot = booking.availability.templates()[0]
        db.session.commit()
        ids = {"package_id": package.id, "order_id": order.id, "slot_id": slot.id, "override_id": override.id,
               "closed_id": closed.id}
        return ids, ["乙方套餐", "乙方项目", order.order_no, "乙方假日"]


def _followup_ids(app, b, patient_id):
    """B's follow-up plan, a task with a record and a call recording."""
    import struct

    from app.followups import plans, recordings, triggers
    from app.followups import services as followups

    wav_frames = b"\x00\x00" * 800
    body = (b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data"
            + struct.pack("<I", len(wav_frames)) + wav_frames)
    with app.app_context(), tenant_context(b.id):
        plan = plans.save(plans.check(plans.PlanDraft(name="乙方随访计划", trigger="enrolment", offsets="0, 7")))
        enrolment = triggers.enrol(plan, patient_id, started_by="walk")
        task = followups.tasks_of_patient(patient_id)[0]
        record = followups.record_contact(task, followups.ContactData(result="reached", notes="乙方随访记录",
                                                                      version=str(task.version)), actor_id=None)
        recording = recordings.attach(record, b"RIFF" + struct.pack("<I", len(body)) + body, "乙方录音.wav",
                                      actor_id=None)
        db.session.commit()
        return ({"plan_id": plan.id, "task_id": task.id, "record_id": record.id, "recording_id": recording.id,
                 "enrolment_id": enrolment.id}, ["乙方随访计划", "乙方随访记录", "乙方录音"])


def _tagging_ids(app, b, patient_id):
    """B's own tag rule (applied to its patient) and a manual tag."""
    from app.tagging import rules as tag_rules
    from app.tagging import services as tagging

    with app.app_context(), tenant_context(b.id):
        draft = tag_rules.RuleDraft("乙方规则", "乙方规则标签", {"op": "and", "items": [{"op": "and", "items": [
            {"source": "indicator", "code": "14771-0", "measure": "latest", "cmp": ">=", "value": 7}]}]})
        rule = tag_rules.save(draft, tag_rules.check(draft))
        manual = tagging.add_manual(patient_id, "乙方手工标签")
        db.session.flush()
        tagging.evaluate_patient(patient_id)
        db.session.commit()
        return {"rule_id": rule.id, "tag_id": manual.id}


def _endpoints_with_methods(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_view_declares_its_permission(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], "permission")]
    assert missing == []


def test_route_walk_across_tenants(app, make_tenant, make_staff, make_patient, client_for, clinic_b):
    b, b_ids, markers = clinic_b
    a = make_tenant("甲方诊所")
    a_patient = make_patient(a, name="甲方病人", birth_date=date(1970, 1, 1))
    walked = 0
    for role in ROLES:
        email = a.owner_email if role == "owner" else make_staff(a, role).email
        client = client_for(a, email)
        token = client.csrf()
        for rule, method in _endpoints_with_methods(app):
            id_args = [arg for arg in rule.arguments if arg in b_ids]
            variants = [dict(b_ids)]
            if "patient_id" in id_args and len(id_args) > 1:
                variants.append(dict(b_ids, patient_id=a_patient.id))  # A's patient, B's child object
            for ids in variants:
                values = {arg: ids.get(arg, ARG_SAMPLES.get(arg)) for arg in rule.arguments}
                with app.test_request_context(base_url=f"http://{a.host}"):
                    from flask import url_for

                    url = url_for(rule.endpoint, **values)
                response = client.open(url, method=method, data={"csrf_token": token},
                                       headers={"X-CSRFToken": token})
                body = response.get_data(as_text=True)
                where = f"{role} {method} {url}"
                signed_out_portal = (rule.endpoint.startswith(("portal.", "portal_questionnaires.", "portal_plans.",
                                                               "portal_advice.", "portal_reports."))
                                     and response.status_code == 302
                                     and "/portal/sign-in" in response.headers.get("Location", ""))
                # the machine API takes bearer tokens only: a staff session is no credential there
                no_token = rule.endpoint.startswith("api.") and response.status_code == 401
                if id_args and not signed_out_portal and not no_token:  # signed out, every id gets "sign in"
                    assert response.status_code in (403, 404), where + body[-600:]
                else:
                    assert response.status_code in (200, 202, 302, 400, 401, 403, 404, 422), where
                leaked = [m for m in markers if m in body]
                assert not leaked, f"{where} shows {leaked}"
                walked += 1
    assert walked > 50
    with app.app_context(), tenant_context(b.id):
        p = db.session.scalar(select(Patient).where(Patient.id == b_ids["patient_id"]))
        assert p.name == "乙方病人" and p.archived_at is None


def test_walk_is_not_vacuous(make_tenant, make_patient, client_for):
    """The same routes with the clinic's own ids do answer."""
    a = make_tenant()
    patient = make_patient(a, name="自己的病人")
    client = client_for(a, a.owner_email)
    assert "自己的病人" in client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert client.get(f"/patients/{patient.id}/identifiers").status_code == 200
