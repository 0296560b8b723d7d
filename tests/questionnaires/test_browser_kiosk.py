"""In the system Chromium on a front-desk tablet (768 x 1024): the front desk hands the tablet to a patient
for a PHQ-9 ("Fill on this tablet"); the tablet shows that form only, without the staff navigation, keeps
to the screen's width, takes the answers, thanks the patient and stays locked until a staff PIN."""
import pytest
from sqlalchemy import select

from tenants.context import tenant_context
from tenants.db import db
from tests.browser import chromium, live_server, overflowing, staff_sign_in
from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres]
TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True}
PIN = "2468"


def test_kiosk_on_a_tablet(app, make_tenant, make_staff, make_patient):
    from app.patients import services as patients
    from app.questionnaires import kiosk, library, responses

    clinic = make_tenant()
    desk_staff = make_staff(clinic, "front_desk")
    patient = make_patient(clinic, name="欧阳娜娜", sex="F")
    with app.app_context(), tenant_context(clinic.id):
        library.sync_pack()
        kiosk.set_pin(PIN, PIN, actor_id=None)
        response_id = responses.request(library.by_key("phq9"), patients.get(patient.id), channel="staff").id
        db.session.commit()
    app.config["PUBLIC_PORT"] = None
    with live_server(app) as port, chromium(CHROMIUM, **TABLET) as tablet:
        app.config["PUBLIC_PORT"] = port
        base = f"http://{clinic.host}:{port}"
        page = tablet.new_page()
        staff_sign_in(page, base, desk_staff.email)
        page.get_by_role("button", name="English").click()
        page.goto(f"{base}/patients/{patient.id}")
        page.locator("#questionnaires").get_by_role("button", name="Fill on this tablet").click()
        page.wait_for_url(f"{base}/kiosk")
        assert page.locator("nav[aria-label='Main']").count() == 0  # no staff navigation
        assert not overflowing(page), overflowing(page)

        page.goto(f"{base}/booking/schedule")  # any other page leads back to the form
        page.wait_for_url(f"{base}/kiosk")
        for n in range(1, 10):
            page.locator(f'#q-q{n} input[value="{1 if n <= 3 else 0}"]').check()
        page.get_by_role("button", name="Submit my answers").click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "Thank you"
        assert page.locator("nav[aria-label='Main']").count() == 0

        page.get_by_text("Staff: unlock").click()
        page.get_by_label("Staff PIN").fill("1111")
        page.get_by_role("button", name="Unlock the tablet").click()
        assert "Wrong PIN" in page.locator("#kiosk-pin-error").inner_text()
        page.get_by_label("Staff PIN").fill(PIN)
        page.get_by_role("button", name="Unlock the tablet").click()
        page.wait_for_url(f"{base}/patients/{patient.id}")
        assert page.locator("nav[aria-label='Main']").count() == 1
    from app.questionnaires.models import QuestionnaireResponse

    with app.app_context(), tenant_context(clinic.id):
        stored = db.session.scalar(select(QuestionnaireResponse).where(QuestionnaireResponse.id == response_id))
        assert stored.status == "submitted" and stored.channel == "kiosk"
        assert next(s for s in stored.scores if s["key"] == "total")["value"] == 3
