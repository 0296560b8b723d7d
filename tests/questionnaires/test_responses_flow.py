"""Sending a questionnaire, filling it through its signed link, and what a submission files:
scores as observations, a critical alert for PHQ-9 item 9, intake-form proposals."""
import re

import pytest
from sqlalchemy import select

from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.postgres

PHQ9_ITEMS = [f"q{i}" for i in range(1, 10)]


def _phq9(app, tenant):
    from app.questionnaires import library

    with app.app_context(), tenant_context(tenant.id):
        library.sync_pack()
        db.session.commit()
        found = library.by_key("phq9")
        return found.id


def _send(app, tenant, questionnaire_id, patient_id, actor_id=None):
    """-> the link the patient got (read from the sealed outbox row)."""
    from app.notifications import sealed
    from app.notifications.models import Notification
    from app.patients import services as patients
    from app.questionnaires import delivery, library

    with app.app_context(), tenant_context(tenant.id):
        sent = delivery.send(library.get(questionnaire_id), [patients.get(patient_id)], actor_id=actor_id,
                             channel="sms")
        db.session.commit()
        assert sent.messaged == 1
        row = db.session.scalars(select(Notification).where(Notification.template_key == "questionnaire_request")
                                 .order_by(Notification.created_at.desc())).first()
        assert "/q/" not in row.body_text  # the outbox keeps the link sealed
        from app.core import clock

        text = sealed.reveal(row, clock.utcnow()).body_text
        return re.search(r"https?://\S+/q/\S+", text).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _phq9_answers(item9: str, others: str = "0") -> dict:
    return {**{k: others for k in PHQ9_ITEMS[:8]}, "q9": item9}


def test_a_phq9_by_link_is_scored_stored_and_raises_a_critical_alert(app, make_tenant, make_staff, make_patient,
                                                                     client_for):
    clinic = make_tenant()
    doctor = make_staff(clinic, "doctor")
    patient = make_patient(clinic, responsible_doctor_id=doctor.id)
    questionnaire_id = _phq9(app, clinic)
    link = _send(app, clinic, questionnaire_id, patient.id)
    phone = client_for(clinic)
    page = phone.get(_path(link))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "name=\"q9\"" in html and patient.name in html

    # saved as the patient goes, then submitted: total 1, but item 9 answered 1
    saved = phone.submit(_path(link) + "/save", {"q1": "1"})
    assert saved.status_code == 200
    done = phone.submit(_path(link), _phq9_answers("1"))
    assert done.status_code == 200, done.get_data(as_text=True)[:800]
    from app.questionnaires.models import QuestionnaireResponse
    from app.records.models import Alert, Indicator, Observation

    with app.app_context(), tenant_context(clinic.id):
        response = db.session.scalar(select(QuestionnaireResponse).where(
            QuestionnaireResponse.patient_id == patient.id))
        assert response.status == "submitted"
        total = next(s for s in response.scores if s["key"] == "total")
        assert total["value"] == 1 and total["band"] == "minimal"
        assert "self_harm" in response.flags
        indicator = db.session.scalar(select(Indicator).where(Indicator.code == "44261-6"))
        observation = db.session.scalar(select(Observation).where(Observation.indicator_id == indicator.id,
                                                                  Observation.patient_id == patient.id))
        assert observation.value == 1 and observation.flag == "HH" and observation.origin == "response"
        alert = db.session.scalar(select(Alert).where(Alert.patient_id == patient.id))
        assert alert.kind == "critical" and alert.doctor_id == doctor.id and alert.due_at is not None

    # the link is single use for submission: opened again it thanks, posted again it files nothing new
    again = phone.submit(_path(link), _phq9_answers("0"))
    assert again.status_code == 200
    with app.app_context(), tenant_context(clinic.id):
        assert db.session.scalar(select(QuestionnaireResponse.scores).where(
            QuestionnaireResponse.patient_id == patient.id))[0]["value"] == 1
        assert len(list(db.session.scalars(select(Observation).where(Observation.patient_id == patient.id)))) == 1


def test_missing_answers_are_kept_and_named(app, make_tenant, make_patient, client_for):
    clinic = make_tenant()
    patient = make_patient(clinic)
    link = _send(app, clinic, _phq9(app, clinic), patient.id)
    phone = client_for(clinic)
    answer = phone.submit(_path(link), {"q1": "2", "q2": "3"})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'id="q-q3-error"' in html
    assert re.search(r'name="q1" value="2"[^>]*checked', html)  # what was typed stays
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        response = db.session.scalar(select(QuestionnaireResponse).where(
            QuestionnaireResponse.patient_id == patient.id))
        assert response.status == "in_progress" and response.answers == {"q1": "2", "q2": "3"}


def test_a_link_opens_only_its_own_response_in_its_own_clinic(app, make_tenant, make_patient, client_for):
    clinic, other = make_tenant(), make_tenant()
    patient = make_patient(clinic)
    link = _send(app, clinic, _phq9(app, clinic), patient.id)
    assert client_for(other).get(_path(link)).status_code == 404          # another clinic's host
    assert client_for(clinic).get(_path(link) + "x").status_code == 404    # forged
    # sending again makes a new link: the old one stops opening
    newer = _send(app, clinic, _phq9(app, clinic), patient.id)
    assert client_for(clinic).get(_path(link)).status_code == 404
    assert client_for(clinic).get(_path(newer)).status_code == 200


@pytest.mark.time_sensitive
def test_a_link_expires(app, make_tenant, make_patient, client_for, pinned_clock):
    from datetime import timedelta

    from app.questionnaires.responses import LINK_DAYS

    clinic = make_tenant()
    patient = make_patient(clinic)
    link = _send(app, clinic, _phq9(app, clinic), patient.id)
    pinned_clock.shift(timedelta(days=LINK_DAYS, minutes=1))
    assert client_for(clinic).get(_path(link)).status_code == 404


def test_staff_see_the_response_and_its_change(app, make_tenant, make_staff, make_patient, client_for):
    clinic = make_tenant()
    doctor = make_staff(clinic, "doctor")
    patient = make_patient(clinic)
    questionnaire_id = _phq9(app, clinic)
    for item in ("3", "0"):  # totals 24 then 0... item 9 only in the first
        link = _send(app, clinic, questionnaire_id, patient.id)
        assert client_for(clinic).submit(_path(link), _phq9_answers(item, others=item)).status_code == 200
    staff = client_for(clinic, doctor.email)
    section = staff.get(f"/patients/{patient.id}/questionnaires", headers={"HX-Request": "true"})
    html = section.get_data(as_text=True)
    assert "(-27)" in html, html
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        first = db.session.scalars(select(QuestionnaireResponse).order_by(QuestionnaireResponse.submitted_at)).first()
    page = staff.get(f"/questionnaires/responses/{first.id}")
    assert page.status_code == 200
    assert "checked" in page.get_data(as_text=True)


def test_front_desk_sends_but_does_not_read_scores(app, make_tenant, make_staff, make_patient, client_for):
    clinic = make_tenant()
    desk = make_staff(clinic, "front_desk")
    patient = make_patient(clinic)
    questionnaire_id = _phq9(app, clinic)
    client = client_for(clinic, desk.email)
    sent = client.submit(f"/questionnaires/{questionnaire_id}/send", {"card_no": patient.card_no})
    assert sent.status_code == 403  # the send form lives on the results page, for clinical roles
    sent = client.submit(f"/patients/{patient.id}/questionnaires/send", {"questionnaire_id": questionnaire_id})
    assert sent.status_code == 302
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        response = db.session.scalar(select(QuestionnaireResponse))
    assert client.get(f"/questionnaires/responses/{response.id}").status_code == 403


def test_sending_to_an_unknown_card_says_so_next_to_the_field(app, make_tenant, make_staff, client_for):
    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    questionnaire_id = _phq9(app, clinic)
    page = client_for(clinic, admin.email).submit(f"/questionnaires/{questionnaire_id}/send", {"card_no": "X999"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'id="send-card-error"' in html and 'value="X999"' in html
