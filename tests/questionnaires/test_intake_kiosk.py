"""Intake forms required by exam packages (requested at booking, reminded the day before, marked on
the day's schedule) and the front-desk tablet's kiosk mode (locked to one response, left with a PIN)."""
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from tenants.context import tenant_context
from tenants.db import db
from tests.booking.conftest import FIRST_SLOT, at_clinic, make_package, open_day  # noqa: F401  (fixture)
from tests.clock import clinic_today
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (fixtures)
from tests.questionnaires.helpers import choice, defn

pytestmark = pytest.mark.postgres

PIN = "2468"


def _intake(app, clinic) -> int:
    """A small test-only intake form (two questions), published in the clinic."""
    from app.questionnaires import library
    from app.questionnaires.models import Questionnaire

    d = defn(choice("smoke", (0, 1)), choice("drink", (0, 1)))
    d.update(key="test_intake", kind="intake", title={"zh": "测试问诊表", "en": "Test intake form"})
    with app.app_context(), tenant_context(clinic.id):
        q = Questionnaire(key="test_intake", kind="intake", title_zh="测试问诊表", title_en="Test intake form")
        db.session.add(q)
        db.session.flush()
        library._add_version(q, d, actor_id=None)
        db.session.commit()
        return q.id


def _require(client, package_id: int, questionnaire_id: int | str):
    answer = client.submit("/questionnaires/settings/intake", {f"package_{package_id}": str(questionnaire_id)})
    assert answer.status_code == 302, answer.get_data(as_text=True)[-800:]


def _book(app, clinic, package_id: int, patient_id: int, day, key: str):
    from app.booking import services as booking
    from app.patients import services as patients

    with app.app_context(), tenant_context(clinic.id):
        order = booking.book(package_id, day, FIRST_SLOT, patients.get(patient_id), idempotency_key=key,
                             actor_type="staff")
        db.session.commit()
        return order.id, order.order_no


def _responses(app, clinic, patient_id: int) -> list:
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        return list(db.session.scalars(select(QuestionnaireResponse).where(
            QuestionnaireResponse.patient_id == patient_id)))


def _messages(app, clinic, template: str, patient_id: int | None = None) -> int:
    from app.notifications.models import Notification

    with app.app_context(), tenant_context(clinic.id):
        query = select(func.count()).select_from(Notification).where(Notification.template_key == template)
        if patient_id is not None:
            query = query.where(Notification.recipient_id == patient_id)
        return db.session.scalar(query)


def _submit_intake(app, clinic, patient_id: int):
    from app.patients import services as patients
    from app.questionnaires import responses, submission
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        found = db.session.scalar(select(QuestionnaireResponse).where(
            QuestionnaireResponse.patient_id == patient_id, QuestionnaireResponse.status.in_(responses.OPEN)))
        submission.submit(found, patients.get(patient_id), {"smoke": "0", "drink": "1"})
        db.session.commit()


def test_booking_a_package_that_requires_an_intake_form_requests_and_sends_it(
        app, make_tenant, make_staff, make_patient, make_package, client_for):
    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    intake_id = _intake(app, clinic)
    with_form = make_package(clinic, name="入职体检套餐")
    without = make_package(clinic, name="基础体检套餐")
    _require(client_for(clinic, admin.email), with_form.id, intake_id)
    settings = client_for(clinic, admin.email).get("/questionnaires/settings").get_data(as_text=True)
    assert re.search(rf'<option value="{intake_id}" selected>', settings)

    patient, other = make_patient(clinic), make_patient(clinic, name="李小红", sex="F")
    order_id, _no = _book(app, clinic, with_form.id, patient.id, open_day(3), "k1")
    found = _responses(app, clinic, patient.id)
    assert len(found) == 1 and found[0].questionnaire_id == intake_id and found[0].status == "requested"
    assert found[0].context.get("order_id") == order_id
    assert _messages(app, clinic, "questionnaire_request", patient.id) >= 1

    _book(app, clinic, without.id, other.id, open_day(3), "k2")
    assert _responses(app, clinic, other.id) == []
    assert _messages(app, clinic, "questionnaire_request", other.id) == 0

    # the patient finds it in the portal's list too (the same response)
    from app.questionnaires import results

    with app.app_context(), tenant_context(clinic.id):
        assert [r.response.id for r in results.patient_rows(patient.id)] == [found[0].id]


def test_only_the_clinics_intake_forms_can_be_required(app, make_tenant, make_staff, make_package, client_for):
    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    _intake(app, clinic)
    package = make_package(clinic)
    from app.questionnaires import library

    with app.app_context(), tenant_context(clinic.id):
        library.sync_pack()
        db.session.commit()
        phq9 = library.by_key("phq9").id  # a screening instrument, not an intake form
    answer = client_for(clinic, admin.email).submit("/questionnaires/settings/intake",
                                                    {f"package_{package.id}": str(phq9)})
    assert answer.status_code == 400
    assert f'id="package_{package.id}-error"' in answer.get_data(as_text=True)
    from app.questionnaires import intake

    with app.app_context(), tenant_context(clinic.id):
        assert intake.mapping() == {}
    desk = make_staff(clinic, "front_desk")
    assert client_for(clinic, desk.email).get("/questionnaires/settings").status_code == 403


@pytest.mark.time_sensitive
def test_the_reminder_goes_once_for_tomorrows_unsubmitted_intake(
        app, make_tenant, make_staff, make_patient, make_package, client_for, pinned_clock, monkeypatch):
    from app.booking import services as booking
    from app.notifications import channels

    delivered: dict[int, str] = {}  # what the SMS channel was handed, as the patient's phone would get it
    send_sms = channels.send_sms

    def recording(row, phone, on_stage):
        delivered[row.id] = row.body_text
        return send_sms(row, phone, on_stage)

    monkeypatch.setattr(channels, "send_sms", recording)

    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    intake_id = _intake(app, clinic)
    package = make_package(clinic)
    _require(client_for(clinic, admin.email), package.id, intake_id)
    today = clinic_today()
    pinned_clock.move_to(at_clinic(today, 8, 0))
    tomorrow = today + timedelta(days=1)
    with app.app_context(), tenant_context(clinic.id):
        booking.add_override(tomorrow, FIRST_SLOT, time(8, 30), 5)  # open even on a Sunday
        db.session.commit()
    waiting, filled = make_patient(clinic), make_patient(clinic, name="王晓燕", sex="F")
    _book(app, clinic, package.id, waiting.id, tomorrow, "r1")
    _book(app, clinic, package.id, filled.id, tomorrow, "r2")
    _submit_intake(app, clinic, filled.id)

    runner = app.test_cli_runner()
    pinned_clock.move_to(at_clinic(today, 9, 59))
    early = runner.invoke(args=["questionnaires", "remind-intake"])
    assert early.exit_code == 0 and f"{clinic.slug} not yet" in early.output, early.output
    assert _messages(app, clinic, "questionnaire_reminder") == 0
    pinned_clock.move_to(at_clinic(today, 10, 1))
    first = runner.invoke(args=["questionnaires", "remind-intake"])
    assert first.exit_code == 0 and f"{clinic.slug} 1" in first.output, first.output
    assert _messages(app, clinic, "questionnaire_reminder", waiting.id) >= 1
    assert _messages(app, clinic, "questionnaire_reminder", filled.id) == 0
    sent = _messages(app, clinic, "questionnaire_reminder")
    again = runner.invoke(args=["questionnaires", "remind-intake"])
    assert again.exit_code == 0 and f"{clinic.slug} 0" in again.output, again.output
    assert _messages(app, clinic, "questionnaire_reminder") == sent

    # the reminder's link opens the patient's open intake response
    from app.core import clock
    from app.notifications import sealed
    from app.notifications.models import Notification

    with app.app_context(), tenant_context(clinic.id):
        row = db.session.scalar(select(Notification).where(Notification.template_key == "questionnaire_reminder",
                                                           Notification.channel == "sms"))
        # sealed until the send; once sent (a worker may be quicker than this test), what the phone got
        text = sealed.reveal(row, clock.utcnow()).body_text if row.secret_enc else delivered[row.id]
        link = re.search(r"https?://\S+/q/\S+", text).group(0)
    page = client_for(clinic).get("/" + link.split("/", 3)[3])
    assert page.status_code == 200 and 'name="smoke"' in page.get_data(as_text=True)


def test_the_schedule_marks_only_the_order_without_a_submitted_intake(
        app, make_tenant, make_staff, make_patient, make_package, client_for):
    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    desk = make_staff(clinic, "front_desk")
    intake_id = _intake(app, clinic)
    package = make_package(clinic)
    plain = make_package(clinic, name="基础体检套餐")
    _require(client_for(clinic, admin.email), package.id, intake_id)
    day = open_day(3)
    waiting = make_patient(clinic, name="欧阳娜娜", sex="F")
    filled = make_patient(clinic, name="司马相如")
    no_form = make_patient(clinic, name="诸葛明远")
    _, waiting_no = _book(app, clinic, package.id, waiting.id, day, "s1")
    _, filled_no = _book(app, clinic, package.id, filled.id, day, "s2")
    _, plain_no = _book(app, clinic, plain.id, no_form.id, day, "s3")
    _submit_intake(app, clinic, filled.id)
    html = client_for(clinic, desk.email).get(f"/booking/schedule?day={day.isoformat()}").get_data(as_text=True)
    rows = {no: next(r for r in html.split("<tr>") if no in r) for no in (waiting_no, filled_no, plain_no)}
    assert "intake-missing" in rows[waiting_no]
    assert "intake-missing" not in rows[filled_no] and "intake-missing" not in rows[plain_no]
    assert html.count("intake-missing") == 1


# ---------------------------------------------------------------------------------------------- kiosk

def _kiosk_ready(app, clinic, make_staff, make_patient, client_for):
    from app.patients import services as patients
    from app.questionnaires import library, responses

    admin = make_staff(clinic, "admin")
    answer = client_for(clinic, admin.email).submit("/questionnaires/settings/kiosk-pin",
                                                    {"pin": PIN, "pin_confirm": PIN})
    assert answer.status_code == 302
    patient = make_patient(clinic)
    with app.app_context(), tenant_context(clinic.id):
        library.sync_pack()
        response = responses.request(library.by_key("phq9"), patients.get(patient.id), channel="staff")
        db.session.commit()
        return patient, response.id


def test_a_pin_is_four_to_eight_digits_typed_twice(make_tenant, make_staff, client_for):
    clinic = make_tenant()
    admin = client_for(clinic, make_staff(clinic, "admin").email)
    short = admin.submit("/questionnaires/settings/kiosk-pin", {"pin": "12", "pin_confirm": "12"})
    assert short.status_code == 400 and 'id="pin-error"' in short.get_data(as_text=True)
    differ = admin.submit("/questionnaires/settings/kiosk-pin", {"pin": "1234", "pin_confirm": "1235"})
    assert differ.status_code == 400 and 'id="pin_confirm-error"' in differ.get_data(as_text=True)


@pytest.mark.time_sensitive
def test_kiosk_mode_locks_the_browser_to_one_response_until_the_pin(
        app, make_tenant, make_staff, make_patient, client_for, pinned_clock):
    clinic = make_tenant()
    patient, response_id = _kiosk_ready(app, clinic, make_staff, make_patient, client_for)
    desk = client_for(clinic, make_staff(clinic, "front_desk").email)
    section = desk.get(f"/patients/{patient.id}/questionnaires", headers={"HX-Request": "true"})
    assert f"/questionnaires/responses/{response_id}/kiosk" in section.get_data(as_text=True)

    started = desk.submit(f"/questionnaires/responses/{response_id}/kiosk")
    assert started.status_code == 302 and started.headers["Location"].endswith("/kiosk")
    for elsewhere in (f"/patients/{patient.id}", "/booking/schedule", "/questionnaires", "/portal", "/"):
        answer = desk.get(elsewhere)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/kiosk"), elsewhere
    assert desk.submit(f"/patients/{patient.id}/questionnaires/send").headers["Location"].endswith("/kiosk")
    page = desk.get("/kiosk")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="q9"' in html and patient.name in html
    assert "/booking/schedule" not in html and "/patients" not in html  # no staff navigation
    assert 'id="kiosk-pin"' in html

    # the patient saves as they go and submits: stored as a kiosk submission
    assert desk.submit("/kiosk/save", {"q1": "1"}).status_code == 200
    done = desk.submit("/kiosk", {**{f"q{i}": "0" for i in range(1, 10)}, "q1": "2"})
    assert done.status_code == 302
    thanks = desk.get("/kiosk")
    assert thanks.status_code == 200 and 'id="kiosk-pin"' in thanks.get_data(as_text=True)
    assert desk.get(f"/patients/{patient.id}").status_code == 302  # still locked after submitting
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        stored = db.session.scalar(select(QuestionnaireResponse).where(QuestionnaireResponse.id == response_id))
        assert stored.status == "submitted" and stored.channel == "kiosk"
        assert next(s for s in stored.scores if s["key"] == "total")["value"] == 2

    # wrong PINs are refused and counted; the fifth locks the tablet, even against the right PIN
    for left in (4, 3, 2, 1):
        wrong = desk.submit("/kiosk/unlock", {"pin": "0000"})
        assert wrong.status_code == 400
        message = re.search(r'id="kiosk-pin-error"[^>]*>([^<]*)<', wrong.get_data(as_text=True)).group(1)
        assert re.search(rf"\b{left}\b", message), message
    assert desk.submit("/kiosk/unlock", {"pin": "9999"}).status_code == 429
    assert desk.submit("/kiosk/unlock", {"pin": PIN}).status_code == 429
    assert desk.get(f"/patients/{patient.id}").status_code == 302
    pinned_clock.shift(timedelta(minutes=6))
    unlocked = desk.submit("/kiosk/unlock", {"pin": PIN})
    assert unlocked.status_code == 302 and unlocked.headers["Location"].endswith(f"/patients/{patient.id}")
    assert desk.get(f"/patients/{patient.id}").status_code == 200
    assert desk.get("/kiosk").status_code == 302  # kiosk mode is over

    from app.core.audit import AuditEvent

    with app.app_context(), tenant_context(clinic.id):
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.in_(("kiosk_started", "kiosk_ended")))))
        assert sorted(actions) == ["kiosk_ended", "kiosk_started"]


def test_kiosk_needs_a_pin_and_an_open_response(app, make_tenant, make_staff, make_patient, client_for):
    from app.patients import services as patients
    from app.questionnaires import library, responses

    clinic = make_tenant()
    patient = make_patient(clinic)
    with app.app_context(), tenant_context(clinic.id):
        library.sync_pack()
        response_id = responses.request(library.by_key("phq9"), patients.get(patient.id), channel="staff").id
        db.session.commit()
    desk = client_for(clinic, make_staff(clinic, "front_desk").email)
    refused = desk.submit(f"/questionnaires/responses/{response_id}/kiosk")
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/patients/{patient.id}")
    assert desk.get(f"/patients/{patient.id}").status_code == 200  # not locked
    assert desk.get("/kiosk").status_code == 302 and not desk.get("/kiosk").headers["Location"].endswith("/kiosk")


def test_booking_in_the_portal_requests_the_intake_form_the_patient_then_finds(
        app, make_tenant, make_staff, make_patient, make_package, client_for, patient_client):
    clinic = make_tenant()
    intake_id = _intake(app, clinic)
    package = make_package(clinic, name="入职体检套餐")
    _require(client_for(clinic, make_staff(clinic, "admin").email), package.id, intake_id)
    patient = make_patient(clinic, name="陈静", sex="F", mobile="13912347777")
    portal = patient_client(clinic, patient.mobile)
    day = open_day(3)
    form = portal.get(f"/shop/packages/{package.id}/book?day={day}&slot=07:30").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form))
    fields.update({"csrf_token": portal.token, "day": day.isoformat(), "slot": "07:30", "consent": "y"})
    done = portal.post(f"/shop/packages/{package.id}/book", data=fields)
    assert done.status_code == 302, done.get_data(as_text=True)[-1500:]
    found = _responses(app, clinic, patient.id)
    assert len(found) == 1 and found[0].questionnaire_id == intake_id and found[0].context.get("order_id")
    assert _messages(app, clinic, "questionnaire_request", patient.id) >= 1
    listed = portal.get("/portal/questionnaires").get_data(as_text=True)
    assert f"/portal/questionnaires/{found[0].id}" in listed
