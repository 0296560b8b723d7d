"""In the system Chromium, the whole loop of rules that act: an admin writes a
follow-up plan and a tag rule, imports an exam report that meets the rule, and
sees the tag with its reason; the health manager finds the task on the
workbench, records the call with its recording and plays it back (audited)."""
import pytest
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.followups.models import CallRecording
from tenants.context import tenant_context
from tenants.db import db
from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM
from tests.followups.test_followups import _wav
from tests.records.test_pages import oru

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres]
TAG = "Stage 2 BP"


def _sign_in(context, base, email):
    page = context.new_page()
    staff_sign_in(page, base, email)
    page.get_by_role("button", name="English").click()
    return page


def _write_plan(page, base):
    page.goto(f"{base}/followups/plans/new")
    page.get_by_label("Plan name").fill("Stage 2 BP calls")
    page.get_by_label("Starts when").select_option(label="A tag is added")
    page.get_by_label("Tag (for “a tag is added”)").fill(TAG)
    page.get_by_label("Kind of schedule").select_option(label="On given days")
    page.get_by_label("Days after the trigger (e.g. 7, 30, 90)").fill("0, 30")
    page.get_by_label("Channel").select_option(label="Phone call")
    page.get_by_label("Failed contacts before escalating to a manager").fill("3")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/followups/plans")
    assert "Stage 2 BP calls" in page.content()


def _write_rule(page, base):
    page.goto(f"{base}/tagging/rules/new")
    page.get_by_label("Rule name").fill("Systolic 160 or more")
    page.get_by_label("Tag it applies").fill(TAG)
    page.get_by_label("Indicator").select_option("8480-6")
    unit = page.get_by_label("Unit")  # the htmx refresh fills in the catalogue's unit
    page.wait_for_function("() => document.querySelector('[name=g0-c0-unit]').value === 'mm[Hg]'")
    assert unit.input_value() == "mm[Hg]"
    page.get_by_label("Comparison").select_option(">=")
    page.get_by_label("Value").fill("160")
    page.get_by_role("button", name="Preview matching patients").click()
    page.get_by_text("0 of 1 patients would have this tag now.").wait_for()
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url(f"{base}/tagging/rules")
    assert "Systolic 160 or more" in page.content()


def _import_report(page, base, patient, tmp_path):
    report = tmp_path / "checkup.hl7"
    report.write_text(oru(patient.card_no, "20261120", [("8480-6", "172", "mm[Hg]", "H"),
                                                        ("8462-4", "104", "mm[Hg]", "H")], "BP2026"))
    page.goto(f"{base}/patients/{patient.id}/records")
    page.get_by_label("Report file (HL7 v2, FHIR JSON, CSV or XLSX)").set_input_files(str(report))
    page.get_by_role("button", name="Import", exact=True).click()
    assert "Imported 1 report (2 results)" in page.get_by_role("status").inner_text()


def _see_tag_and_reason(page, base, patient):
    """The tag comes from a background job: reload until it is there."""
    for _attempt in range(40):
        page.goto(f"{base}/patients/{patient.id}")
        if page.locator("#patient-tags .badge", has_text=TAG).count():
            break
        page.wait_for_timeout(250)
    ours = page.locator("#patient-tags li", has=page.locator(".badge", has_text=TAG))
    assert ours.count() == 1
    ours.get_by_text("Why").click()
    reason = ours.locator("details.tag-why")
    assert "Systolic 160 or more" in reason.inner_text()
    assert "172" in reason.inner_text()


def _record_the_call(page, base, patient, tmp_path):
    page.goto(f"{base}/")
    page.get_by_role("link", name="Follow-ups").first.click()
    page.wait_for_url(f"{base}/followups")
    today = page.locator("#today")
    task_link = today.get_by_role("link", name=f"{patient.name} ({patient.card_no})")
    assert "Stage 2 BP calls" in today.inner_text()
    task_link.click()
    recording = tmp_path / "call-20261122.wav"
    recording.write_bytes(_wav(seconds=2))
    page.get_by_label("Reached").check()
    page.get_by_label("Notes").fill("Patient agrees to recheck at home twice a day.")
    page.get_by_label("Systolic BP (mmHg)").fill("158")
    page.get_by_label("Diastolic BP (mmHg)").fill("96")
    page.get_by_label("Call recording (MP3, M4A/AAC, WAV, AMR)").set_input_files(str(recording))
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Follow-up recorded.").wait_for()


def _play_back(page):
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    assert "call-20261122.wav · 0:02" in history.inner_text()
    played = page.evaluate("""async () => {
        const audio = document.querySelector('audio');
        audio.muted = true;
        await audio.play();
        await Promise.race([
            new Promise(done => audio.addEventListener('ended', done, {once: true})),
            new Promise((_, fail) => setTimeout(() => fail(new Error('the recording did not play to its end')), 15000)),
        ]);
        return audio.duration;
    }""")
    assert played == pytest.approx(2.0, abs=0.05)


def test_rule_report_tag_task_call_recording_playback(app, make_tenant, make_staff, make_patient, tmp_path):
    tenant = make_tenant()
    manager = make_staff(tenant, "health_manager")
    patient = make_patient(tenant, name="欧阳建国", sex="M")
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        base = f"http://{tenant.slug}.localhost:{port}"
        admin = _sign_in(browser, base, tenant.owner_email)
        _write_plan(admin, base)
        _write_rule(admin, base)
        _import_report(admin, base, patient, tmp_path)
        _see_tag_and_reason(admin, base, patient)

        page = _sign_in(browser.browser.new_context(), base, manager.email)  # a second person
        _record_the_call(page, base, patient, tmp_path)
        _play_back(page)

    with app.app_context(), tenant_context(tenant.id):
        recording = db.session.scalar(select(CallRecording))
        played = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_played")))
        assert [event.actor_id for event in played] == [manager.id]
        assert played[0].detail.get("recording_id") == recording.id
