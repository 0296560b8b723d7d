"""Satisfaction surveys after completed visits (a delay, once per patient in N days, one of two at once),
service recovery for a low score, the NPS view, and the XLSX export of a questionnaire's responses."""
import io
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from sqlalchemy import func, select

from tenants.context import tenant_context
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, make_package, open_day  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres


def _t(zh: str, en: str) -> dict:
    return {"zh": zh, "en": en}


def _likert(key: str, zh: str, en: str) -> dict:
    labels = [("从不", "Never"), ("有时", "Sometimes"), ("经常", "Usually"), ("总是", "Always")]
    return {"key": key, "type": "likert", "text": _t(zh, en), "required": True,
            "options": [{"code": str(i + 1), "label": _t(*labels[i]), "score": i + 1} for i in range(4)]}


def _band(key: str, low: int, high: int, zh: str, en: str) -> dict:
    return {"key": key, "min": low, "max": high, "label": _t(zh, en)}


# A small survey in the pack's format (the real one comes with the pack): two CG-CAHPS-style domains of
# 1-4 items, the 0-10 recommend question and a free-text comment.
SURVEY = {
    "key": "satisfaction", "version": 1, "kind": "survey", "title": _t("测试满意度调查", "Test satisfaction survey"),
    "source": "test only",
    "sections": [{"key": "main", "title": _t("您的就诊", "Your visit"), "show_if": None, "questions": [
        _likert("access1", "能及时约到体检", "Got an appointment when needed"),
        _likert("comm1", "医生解释清楚", "The doctor explained things clearly"),
        _likert("comm2", "医生认真倾听", "The doctor listened carefully"),
        {"key": "recommend", "type": "likert", "text": _t("您向亲友推荐我们的可能性？", "How likely to recommend us?"),
         "required": True, "options": [{"code": str(i), "label": _t(str(i), str(i)), "score": i} for i in range(11)]},
        {"key": "comment", "type": "textarea", "text": _t("其他意见", "Anything else"), "required": False},
    ]}],
    "scores": [
        {"key": "access", "method": "mean", "items": ["access1"], "label": _t("预约便利", "Access"), "round": 2},
        {"key": "communication", "method": "mean", "items": ["comm1", "comm2"],
         "label": _t("医患沟通", "Communication"), "round": 2},
        {"key": "recommend", "method": "sum", "items": ["recommend"],
         "label": _t("推荐意愿", "Likelihood to recommend"),
         "bands": [_band("detractor", 0, 6, "贬损者", "Detractor"), _band("passive", 7, 8, "被动者", "Passive"),
                   _band("promoter", 9, 10, "推荐者", "Promoter")]},
    ],
    "flags": [],
}


def install_survey(actor_id: int | None = None) -> int:
    """The clinic's questionnaire under the key "satisfaction" with the test definition published (inside a
    tenant context; the caller commits)."""
    from app.questionnaires import definition, library
    from app.questionnaires.models import Questionnaire

    assert definition.check_definition(SURVEY) == []
    questionnaire = library.by_key("satisfaction")
    if questionnaire is None:
        questionnaire = Questionnaire(key="satisfaction", kind="survey", title_zh="测试满意度调查",
                                      title_en="Test satisfaction survey", pack_key="")
        db.session.add(questionnaire)
        db.session.flush()
    library.publish(questionnaire, SURVEY, actor_id=actor_id or 1)
    return questionnaire.id


def _turn_on(app, clinic, *, delay: int = 24, every: int = 90, after_followup: bool = False, **extra) -> int:
    from app.questionnaires import satisfaction

    with app.app_context(), tenant_context(clinic.id):
        questionnaire_id = install_survey()
        satisfaction.save_settings(satisfaction.SettingsData(
            enabled=True, questionnaire_key="satisfaction", after_exam=True, after_followup=after_followup,
            delay_hours=str(delay), every_days=str(every), **extra), actor_id=1)
        db.session.commit()
        return questionnaire_id


def _complete_order(app, clinic, package, patient, offset: int) -> int:
    from app.booking import services as booking
    from app.patients import services as patients

    with app.app_context(), tenant_context(clinic.id):
        order = booking.book(package.id, open_day(offset), FIRST_SLOT, patients.get(patient.id),
                             idempotency_key=f"sat-{offset}-{patient.id}")
        booking.transition(order, "checked_in", actor_type="staff", actor_id=None, confirmed=True)
        booking.mark_paid(order, actor_id=None, reference=f"R{offset}")
        booking.transition(order, "completed", actor_type="staff", actor_id=None)
        db.session.commit()
        return order.id


def _survey_rows(app, clinic, patient_id):
    from app.notifications.models import Notification
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        responses = db.session.scalars(select(QuestionnaireResponse).where(
            QuestionnaireResponse.patient_id == patient_id)).all()
        messages = db.session.scalars(select(Notification).where(
            Notification.template_key == "questionnaire_request", Notification.recipient_id == patient_id)).all()
        return ([SimpleNamespace(id=r.id, context=dict(r.context)) for r in responses],
                [SimpleNamespace(scheduled_at=m.scheduled_at, created_at=m.created_at, channel=m.channel)
                 for m in messages])


@pytest.mark.time_sensitive
def test_a_completed_exam_sends_one_survey_after_the_delay_and_not_again_within_n_days(
        app, make_tenant, make_patient, make_package, pinned_clock):
    from app.core import clock

    clinic = make_tenant()
    patient = make_patient(clinic)
    package = make_package(clinic)
    _turn_on(app, clinic, delay=24, every=90)
    before = clock.utcnow()
    first_order = _complete_order(app, clinic, package, patient, 3)
    responses, messages = _survey_rows(app, clinic, patient.id)
    assert [r.context for r in responses] == [{"order_id": first_order}]
    assert len(messages) == 1
    sent_at = messages[0].scheduled_at
    # 24 hours on, moved out of the quiet hours (at most to the next morning) if it falls in them
    assert before + timedelta(hours=24) <= sent_at <= clock.utcnow() + timedelta(hours=24 + 12)

    _complete_order(app, clinic, package, patient, 4)  # within 90 days: no second survey
    responses, messages = _survey_rows(app, clinic, patient.id)
    assert len(responses) == 1 and len(messages) == 1

    pinned_clock.shift(timedelta(days=91))  # after N days the next completed exam asks again
    third_order = _complete_order(app, clinic, package, patient, 5)
    responses, messages = _survey_rows(app, clinic, patient.id)
    assert len(messages) == 2 and {"order_id": third_order} in [r.context for r in responses]


def test_surveys_stay_off_until_turned_on(app, make_tenant, make_patient, make_package):
    clinic = make_tenant()
    patient = make_patient(clinic)
    package = make_package(clinic)
    with app.app_context(), tenant_context(clinic.id):
        install_survey()
        db.session.commit()
    _complete_order(app, clinic, package, patient, 3)
    assert _survey_rows(app, clinic, patient.id) == ([], [])


def test_two_completions_at_the_same_moment_send_one_survey(app, make_tenant, make_patient):
    from app.questionnaires import satisfaction
    from app.questionnaires.models import QuestionnaireResponse, SurveyGate

    clinic = make_tenant()
    patient = make_patient(clinic)
    _turn_on(app, clinic)
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def attempt(i):
        with app.app_context(), tenant_context(clinic.id):
            try:
                barrier.wait()
                outcomes[i] = satisfaction.trigger(patient.id, context={"order_id": 1000 + i}) is not None
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the test
                db.session.rollback()
                outcomes[i] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=str) == [False, True], outcomes
    with app.app_context(), tenant_context(clinic.id):
        assert db.session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 1
        assert db.session.scalar(select(func.count()).select_from(SurveyGate)) == 1


def test_a_completed_follow_up_contact_sends_the_survey(app, make_tenant, make_staff, make_patient):
    from app.core import clock
    from app.followups import services as followups
    from app.followups.models import FollowupTask

    clinic = make_tenant()
    manager = make_staff(clinic, "health_manager")
    patient = make_patient(clinic)
    _turn_on(app, clinic, after_followup=True)
    with app.app_context(), tenant_context(clinic.id):
        task = FollowupTask(patient_id=patient.id, assignee_id=manager.id, due_date=clock.today())
        db.session.add(task)
        db.session.flush()
        failed = followups.record_contact(task, followups.ContactData(result="no_answer", version=str(task.version)),
                                          actor_id=manager.id)
        assert failed is not None
        db.session.commit()
        task_id = task.id
    assert _survey_rows(app, clinic, patient.id)[0] == []  # not reached: nothing to ask about
    with app.app_context(), tenant_context(clinic.id):
        task = followups.get_task(task_id)
        followups.record_contact(task, followups.ContactData(result="reached", version=str(task.version)),
                                 actor_id=manager.id)
        db.session.commit()
    responses, messages = _survey_rows(app, clinic, patient.id)
    assert [r.context for r in responses] == [{"task_id": task_id}] and len(messages) == 1



def test_a_survey_that_cannot_be_sent_never_undoes_the_completion(app, make_tenant, make_staff, make_patient,
                                                                  make_package, monkeypatch, caplog):
    """The survey is asked for after the completing commit, in its own transaction: when its sending fails, the
    exam and the contact are completed all the same, the failure is logged, and nothing of the survey (its gate
    included) is kept, so a later completion sends it once."""
    import logging

    from app.booking import services as booking
    from app.core import clock
    from app.followups import services as followups
    from app.followups.models import FollowupTask
    from app.questionnaires import delivery
    from app.questionnaires.models import SurveyGate

    clinic = make_tenant()
    manager = make_staff(clinic, "health_manager")
    patient = make_patient(clinic)
    package = make_package(clinic)
    _turn_on(app, clinic, after_followup=True)

    def cannot_send(*_args, **_kwargs):
        raise RuntimeError("the message template cannot be filled")

    monkeypatch.setattr(delivery, "send", cannot_send)
    # the migrations' logging config disables the loggers that existed then: wake this one for the test
    monkeypatch.setattr(logging.getLogger("app.questionnaires.satisfaction"), "disabled", False)
    with caplog.at_level(logging.ERROR, logger="app.questionnaires.satisfaction"):
        order_id = _complete_order(app, clinic, package, patient, 3)
        with app.app_context(), tenant_context(clinic.id):
            task = FollowupTask(patient_id=patient.id, assignee_id=manager.id, due_date=clock.today())
            db.session.add(task)
            db.session.flush()
            followups.record_contact(task, followups.ContactData(result="reached", version=str(task.version)),
                                     actor_id=manager.id)
            db.session.commit()
            task_id = task.id
    failures = [r for r in caplog.records if "satisfaction survey" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info and "cannot be filled" in str(r.exc_info[1]) for r in failures)
    with app.app_context(), tenant_context(clinic.id):
        assert booking.get_order(order_id).status == "completed"
        assert followups.get_task(task_id).status == "done"
        assert db.session.scalar(select(func.count()).select_from(SurveyGate)) == 0
    assert _survey_rows(app, clinic, patient.id) == ([], [])

    monkeypatch.undo()  # sending works again: the next completed exam sends one survey
    next_order = _complete_order(app, clinic, package, patient, 4)
    responses, messages = _survey_rows(app, clinic, patient.id)
    assert [r.context for r in responses] == [{"order_id": next_order}] and len(messages) == 1

def _answer(app, clinic, patient_id, recommend: int, *, comment: str = "", context=None, comm: str = "4",
            access: str = "4") -> int:
    """A submitted survey (as if by the link): returns the response id."""
    from app.patients import services as patients
    from app.questionnaires import library, responses, submission

    with app.app_context(), tenant_context(clinic.id):
        patient = patients.get(patient_id)
        response = responses.request(library.by_key("satisfaction"), patient, channel="link", context=context or {})
        submission.submit(response, patient, {"access1": access, "comm1": comm, "comm2": comm,
                                              "recommend": str(recommend), "comment": comment})
        db.session.commit()
        return response.id


def test_a_recommend_of_six_opens_a_case_and_seven_does_not_and_the_admin_closes_it(
        app, make_tenant, make_staff, make_patient, client_for):
    from app.notifications.models import Notification
    from app.questionnaires.models import RecoveryCase

    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    patient, other = make_patient(clinic, name="李秀兰"), make_patient(clinic)
    _turn_on(app, clinic)
    _answer(app, clinic, other.id, 7, comment="还行")
    low = _answer(app, clinic, patient.id, 6, comment="候诊太久，没人解释", context={"order_id": 424242})
    with app.app_context(), tenant_context(clinic.id):
        cases = db.session.scalars(select(RecoveryCase)).all()
        assert [(c.response_id, c.recommend, c.reason, c.status, c.order_id) for c in cases] == \
            [(low, 6.0, "recommend", "open", 424242)]
        assert cases[0].comment == "候诊太久，没人解释"
        case_id = cases[0].id
        notices = db.session.scalars(select(Notification).where(
            Notification.template_key == "satisfaction_low_score")).all()
        assert {n.channel for n in notices} == {"inapp"}
        assert admin.id in {n.recipient_id for n in notices} and len(notices) == 2  # the admin and the owner
        assert "候诊" not in notices[0].body_text and "低" in notices[0].subject  # a low score, nothing more

    client = client_for(clinic, admin.email)
    listing = client.get("/questionnaires/recovery").get_data(as_text=True)
    assert "李秀兰" in listing and "候诊太久" in listing
    page = client.get(f"/questionnaires/recovery/{case_id}")
    assert page.status_code == 200 and "候诊太久，没人解释" in page.get_data(as_text=True)
    refused = client.submit(f"/questionnaires/recovery/{case_id}/close", {"resolution": "  "})
    assert refused.status_code == 400 and 'id="resolution-error"' in refused.get_data(as_text=True)
    done = client.submit(f"/questionnaires/recovery/{case_id}/close", {"resolution": "已致电道歉，下次优先安排"})
    assert done.status_code == 302
    with app.app_context(), tenant_context(clinic.id):
        closed = db.session.scalar(select(RecoveryCase).where(RecoveryCase.id == case_id))
        assert (closed.status, closed.resolution, closed.closed_by) == ("closed", "已致电道歉，下次优先安排", admin.id)
        assert closed.closed_at is not None
    assert "已致电道歉" in client.get(f"/questionnaires/recovery/{case_id}").get_data(as_text=True)


def test_a_chosen_item_below_the_threshold_opens_a_case(app, make_tenant, make_patient):
    from app.questionnaires.models import RecoveryCase

    clinic = make_tenant()
    patient = make_patient(clinic)
    _turn_on(app, clinic, low_item="communication", low_below="2")
    _answer(app, clinic, patient.id, 10, comm="2")  # at the threshold: no case
    low = _answer(app, clinic, patient.id, 9, comm="1")
    with app.app_context(), tenant_context(clinic.id):
        cases = db.session.scalars(select(RecoveryCase)).all()
        assert [(c.response_id, c.reason, c.item_value) for c in cases] == [(low, "communication", 1.0)]


def test_the_satisfaction_view_computes_nps_by_month_package_and_staff(app, make_tenant, make_staff,
                                                                      make_patient, make_package, client_for):
    from app.booking import services as booking
    from app.core import clock
    from app.patients import services as patients
    from app.questionnaires import satisfaction, satisfaction_report

    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    doctor = make_staff(clinic, "doctor")
    package = make_package(clinic, name="心脑血管套餐")
    people = [make_patient(clinic, name=f"患者{i}", responsible_doctor_id=doctor.id) for i in range(4)]
    _turn_on(app, clinic)
    client = client_for(clinic, admin.email)
    with app.app_context(), tenant_context(clinic.id):
        satisfaction.settings().enabled = False
        db.session.commit()
    empty = client.get("/questionnaires/satisfaction")  # says what to do: turn surveys on
    with app.test_request_context(), force_locale("zh_CN"):
        advice = gettext("Turn on automatic surveys after completed exams and follow-ups")
    assert empty.status_code == 200 and advice in empty.get_data(as_text=True)
    with app.app_context(), tenant_context(clinic.id):
        order = booking.book(package.id, open_day(3), FIRST_SLOT, patients.get(people[0].id), idempotency_key="nps")
        db.session.commit()
        order_id = order.id
    # 2 promoters, 1 passive, 1 detractor: (2 - 1) / 4 = 25
    _answer(app, clinic, people[0].id, 10, context={"order_id": order_id}, comm="4")
    _answer(app, clinic, people[1].id, 9, comm="3")
    _answer(app, clinic, people[2].id, 8, comm="2", comment="体检报告出得慢")
    _answer(app, clinic, people[3].id, 3, comm="1")
    with app.app_context(), tenant_context(clinic.id):
        found = satisfaction_report.report(satisfaction.survey_questionnaire(), clock.today() - timedelta(days=1),
                                           clock.today() + timedelta(days=1))
        assert found.overall.nps == 25.0
        assert (found.overall.promoters, found.overall.passives, found.overall.detractors) == (2, 1, 1)
        assert found.overall.mean("communication") == 2.5
        assert [(t.label, t.responses) for t in found.by_month] == [(clock.local(clock.utcnow()).strftime("%Y-%m"), 4)]
        by_package = {t.label: t for t in found.by_package}
        assert by_package["心脑血管套餐"].responses == 1 and by_package["心脑血管套餐"].nps == 100.0
        assert [(t.label, t.responses) for t in found.by_staff] == [("doctor user", 4)]
        assert [c.text for c in found.comments] == ["体检报告出得慢"]
    html = client.get("/questionnaires/satisfaction").get_data(as_text=True)
    assert ">25<" in html and "心脑血管套餐" in html and "体检报告出得慢" in html
    bad = client.get("/questionnaires/satisfaction?since=2026-13-01")
    assert bad.status_code == 400 and 'id="f-since-error"' in bad.get_data(as_text=True)


def test_front_desk_cannot_open_the_satisfaction_view_cases_or_export(app, make_tenant, make_staff, client_for):
    clinic = make_tenant()
    desk = make_staff(clinic, "front_desk")
    questionnaire_id = _turn_on(app, clinic)
    client = client_for(clinic, desk.email)
    for path in ("/questionnaires/satisfaction", "/questionnaires/recovery", "/questionnaires/satisfaction/settings",
                 f"/questionnaires/{questionnaire_id}/export.xlsx"):
        assert client.get(path).status_code == 403, path


def test_an_admin_saves_the_settings_and_mistakes_are_named(app, make_tenant, make_staff, client_for):
    from app.questionnaires import satisfaction

    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    with app.app_context(), tenant_context(clinic.id):
        install_survey()
        db.session.commit()
    client = client_for(clinic, admin.email)
    assert client.get("/questionnaires/satisfaction/settings").status_code == 200
    bad = client.submit("/questionnaires/satisfaction/settings", {
        "enabled": "y", "questionnaire_key": "satisfaction", "after_exam": "y", "delay_hours": "x",
        "every_days": "30"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="delay_hours-error"' in html and 'value="x"' in html
    good = client.submit("/questionnaires/satisfaction/settings", {
        "enabled": "y", "questionnaire_key": "satisfaction", "after_exam": "y", "after_followup": "y",
        "delay_hours": "2", "every_days": "30", "low_item": "access", "low_below": "2.5"})
    assert good.status_code == 302
    with app.app_context(), tenant_context(clinic.id):
        rules = satisfaction.settings()
        assert (rules.enabled, rules.after_followup, rules.delay_hours, rules.every_days, rules.low_item,
                rules.low_below) == (True, True, 2, 30, "access", 2.5)


def _sheet(answer) -> list[list]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    book = load_workbook(io.BytesIO(answer.data), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_the_export_has_a_row_per_response_and_leaves_identifiers_out_when_asked(
        app, make_tenant, make_staff, make_patient, client_for):
    from app.core.audit import AuditEvent

    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    manager = make_staff(clinic, "health_manager")
    patient = make_patient(clinic, name="王晓燕")
    questionnaire_id = _turn_on(app, clinic)
    _answer(app, clinic, patient.id, 9, comment="很好", comm="3")
    _answer(app, clinic, patient.id, 4, comm="1")
    with app.app_context(), tenant_context(clinic.id):
        from app.patients import services as patients
        from app.questionnaires import library, responses

        responses.request(library.get(questionnaire_id), patients.get(patient.id), channel="link")  # not submitted
        db.session.commit()
    client = client_for(clinic, admin.email)
    detail = client.get(f"/questionnaires/{questionnaire_id}").get_data(as_text=True)
    assert f"/questionnaires/{questionnaire_id}/export.xlsx" in detail
    rows = _sheet(client.get(f"/questionnaires/{questionnaire_id}/export.xlsx"))
    assert len(rows) == 3  # the heading and the two submitted responses
    assert "医生解释清楚" in rows[0] and "推荐意愿" in rows[0]  # the staff's language (zh)
    flat = [str(v) for row in rows[1:] for v in row]
    assert "王晓燕" in flat and patient.mobile in flat and patient.card_no in flat
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["医生解释清楚"] == "经常" and first["其他意见"] == "很好" and first["推荐意愿"] == 9
    assert "推荐者" in rows[1]  # the band, labelled

    plain = _sheet(client.get(f"/questionnaires/{questionnaire_id}/export.xlsx?identifiers=0"))
    flat = [str(v) for row in plain for v in row]
    assert len(plain) == 3 and "王晓燕" not in flat and patient.mobile not in flat and patient.card_no not in flat
    assert len(plain[0]) == len(rows[0]) - 3

    # a health manager may not see ID numbers: identifiers stay out even when asked for
    as_manager = client_for(clinic, manager.email)
    asked = _sheet(as_manager.get(f"/questionnaires/{questionnaire_id}/export.xlsx?identifiers=1"))
    assert "王晓燕" not in [str(v) for row in asked for v in row]
    with app.app_context(), tenant_context(clinic.id):
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "questionnaire_exported")
                                    .order_by(AuditEvent.at)).all()
        assert [(e.actor_id, e.detail) for e in events] == [
            (admin.id, {"questionnaire": "satisfaction", "rows": 2, "identifiers": True}),
            (admin.id, {"questionnaire": "satisfaction", "rows": 2, "identifiers": False}),
            (manager.id, {"questionnaire": "satisfaction", "rows": 2, "identifiers": False})]


def test_an_exam_completed_at_the_desk_sends_the_survey_after_the_request_commits(
        app, make_tenant, make_staff, make_patient, make_package, client_for):
    from app.booking import services as booking
    from app.patients import services as patients

    clinic = make_tenant()
    desk = make_staff(clinic, "front_desk")
    patient = make_patient(clinic)
    package = make_package(clinic)
    _turn_on(app, clinic)
    with app.app_context(), tenant_context(clinic.id):
        order = booking.book(package.id, open_day(3), FIRST_SLOT, patients.get(patient.id), idempotency_key="desk")
        booking.transition(order, "checked_in", actor_type="staff", actor_id=None, confirmed=True)
        booking.mark_paid(order, actor_id=None, reference="R1")
        db.session.commit()
        order_id = order.id
    done = client_for(clinic, desk.email).submit(f"/booking/orders/{order_id}/action/complete")
    assert done.status_code == 302
    responses, messages = _survey_rows(app, clinic, patient.id)
    assert [r.context for r in responses] == [{"order_id": order_id}] and len(messages) == 1


def test_a_large_export_is_written_in_batches_and_has_every_row(
        app, make_tenant, make_staff, make_patient, client_for, monkeypatch):
    """A few hundred responses, read in batches smaller than the whole (so several fetches), written to a file:
    the workbook opens with a row per response in submission order, identifiers only when asked for, and
    the export is audited with its count."""
    from app.core import clock
    from app.core.audit import AuditEvent
    from app.questionnaires import export, library, scoring
    from app.questionnaires.models import QuestionnaireResponse

    monkeypatch.setattr(export, "BATCH", 40)
    count = 300
    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    patients = [make_patient(clinic, name=name) for name in ("张伟", "刘芳", "陈静")]
    questionnaire_id = _turn_on(app, clinic)
    with app.app_context(), tenant_context(clinic.id):
        questionnaire = library.get(questionnaire_id)
        version = library.current_version(questionnaire)
        start = clock.now() - timedelta(days=count)
        for i in range(count):
            answers = {"access1": str(i % 4 + 1), "comm1": "3", "comm2": "4", "recommend": str(i % 11),
                       "comment": f"第{i}份"}
            result = scoring.score(version.definition, answers)
            db.session.add(QuestionnaireResponse(
                questionnaire_id=questionnaire_id, version_id=version.id, patient_id=patients[i % 3].id,
                status="submitted", channel="link", answers=answers, submitted_at=start + timedelta(days=i),
                scores=[{"key": s.key, "value": s.value, "band": s.band} for s in result.scores]))
        db.session.commit()
    client = client_for(clinic, admin.email)

    answer = client.get(f"/questionnaires/{questionnaire_id}/export.xlsx")
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "no-store" in answer.headers["Cache-Control"]
    assert answer.headers["Content-Disposition"].startswith("attachment")
    rows = _sheet(answer)
    assert len(rows) == count + 1
    named = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["其他意见"] for row in named] == [f"第{i}份" for i in range(count)]
    assert [row["推荐意愿"] for row in named] == [i % 11 for i in range(count)]
    bands = {0: "贬损者", 6: "贬损者", 7: "被动者", 8: "被动者", 9: "推荐者", 10: "推荐者"}
    assert {i: named[i]["推荐意愿：分级"] for i in bands} == bands
    assert {row[rows[0][3]] for row in named} == {"张伟", "刘芳", "陈静"}  # the name column
    assert [row[rows[0][3]] for row in named[:3]] == ["张伟", "刘芳", "陈静"]

    plain = _sheet(client.get(f"/questionnaires/{questionnaire_id}/export.xlsx?identifiers=0"))
    flat = {str(v) for row in plain for v in row}
    assert len(plain) == count + 1 and len(plain[0]) == len(rows[0]) - 3
    assert not flat & {"张伟", "刘芳", "陈静"} and not flat & {p.mobile for p in patients}
    with app.app_context(), tenant_context(clinic.id):
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "questionnaire_exported")
                                    .order_by(AuditEvent.at)).all()
        assert [e.detail for e in events] == [
            {"questionnaire": "satisfaction", "rows": count, "identifiers": True},
            {"questionnaire": "satisfaction", "rows": count, "identifiers": False}]
