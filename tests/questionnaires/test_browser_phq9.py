"""In the system Chromium: a doctor sends a PHQ-9 from the patient page, the patient fills it through the
SMS link on a phone-sized page, and the doctor sees the score and band, the stored observation, the tag a
rule gives for "latest PHQ-9 total ≥ 10", and the critical alert item 9 raises."""
import re

import pytest
from sqlalchemy import select

from tenants.context import tenant_context
from tenants.db import db
from tests.browser import chromium, live_server, overflowing, staff_sign_in
from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _rule(app, clinic):
    from app.tagging import rules as tag_rules

    with app.app_context(), tenant_context(clinic.id):
        draft = tag_rules.RuleDraft("PHQ-9 ≥ 10", "抑郁筛查阳性", {"op": "and", "items": [{"op": "and", "items": [
            {"source": "indicator", "code": "44261-6", "measure": "latest", "cmp": ">=", "value": 10}]}]})
        tag_rules.save(draft, tag_rules.check(draft))
        db.session.commit()


@pytest.fixture
def texted_link(app, monkeypatch):
    """The questionnaire link texted to a patient: opened from the sealed outbox row before the send, or
    read from what the SMS channel was handed after it (as the patient's phone would)."""
    from app.core import clock
    from app.notifications import channels, sealed
    from app.notifications.models import Notification

    delivered: dict[int, str] = {}
    send_sms = channels.send_sms

    def recording(row, phone, on_stage):
        delivered[row.recipient_id] = row.body_text
        return send_sms(row, phone, on_stage)

    monkeypatch.setattr(channels, "send_sms", recording)

    def read(clinic, patient_id: int) -> str:
        with app.app_context(), tenant_context(clinic.id):
            row = db.session.scalar(select(Notification).where(
                Notification.template_key == "questionnaire_request", Notification.recipient_id == patient_id,
                Notification.channel == "sms"))
            text = sealed.reveal(row, clock.utcnow()).body_text if row.secret_enc else delivered[patient_id]
        return re.search(r"https?://\S+/q/\S+", text).group(0)

    return read


def test_phq9_by_sms_link_on_a_phone(app, make_tenant, make_staff, make_patient, texted_link):
    clinic = make_tenant()
    doctor = make_staff(clinic, "doctor")
    patient = make_patient(clinic, responsible_doctor_id=doctor.id)
    _rule(app, clinic)
    app.config["PUBLIC_PORT"] = None
    with live_server(app) as port, chromium(CHROMIUM) as desk:
        phone = desk.browser.new_context(**PHONE)
        app.config["PUBLIC_PORT"] = port
        base = f"http://{clinic.host}:{port}"
        page = desk.new_page()
        staff_sign_in(page, base, doctor.email)
        page.get_by_role("button", name="English").click()
        page.goto(f"{base}/patients/{patient.id}")
        page.get_by_label("Send a questionnaire").select_option(label="Patient Health Questionnaire (PHQ-9)")
        page.get_by_role("button", name="Send the link").click()
        page.wait_for_url(f"{base}/patients/{patient.id}")

        link = texted_link(clinic, patient.id)
        assert link.startswith(f"{base}/q/")
        form = phone.new_page()
        form.goto(link)
        assert not overflowing(form), overflowing(form)
        for n in range(1, 9):  # several days (1) for items 1-8, more than half the days (2) for item 9: total 10
            form.locator(f'#q-q{n} input[value="1"]').check()
        form.locator('#q-q9 input[value="2"]').check()
        form.get_by_role("button").last.click()
        form.wait_for_load_state("load")
        assert form.locator("h1").inner_text() in ("谢谢您", "Thank you")

        page.goto(f"{base}/patients/{patient.id}")
        section = page.locator("#questionnaires")
        section.wait_for()
        assert "10" in section.inner_text() and "Moderate" in section.inner_text()
        banner = page.locator(".critical-banner")
        assert banner.is_visible() and patient.name in banner.inner_text()
        chips = page.locator(".glance-tags .badge")  # the header's tags (the tag's name shows elsewhere too)
        for _attempt in range(40):  # the tag rule runs in a job after the commit
            if "抑郁筛查阳性" in " ".join(chips.all_inner_texts()):
                break
            page.wait_for_timeout(500)
            page.reload()
        assert "抑郁筛查阳性" in " ".join(chips.all_inner_texts())
    from app.records.models import Indicator, Observation
    from app.tagging.services import patient_tags

    with app.app_context(), tenant_context(clinic.id):
        indicator = db.session.scalar(select(Indicator).where(Indicator.code == "44261-6"))
        observation = db.session.scalar(select(Observation).where(Observation.indicator_id == indicator.id))
        assert observation.value == 10 and observation.flag == "HH"
        assert "抑郁筛查阳性" in [shown.tag.name for shown in patient_tags(patient.id)]
