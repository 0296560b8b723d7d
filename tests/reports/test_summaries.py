"""Stage summaries: CareLoop drafts the same text from the same data, with the period's numbers in it; staff
edit the draft, a doctor signs it, a signed version is locked and a change is a new version with its reason."""
import re
from datetime import date

from flask_babel import force_locale
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.patients.models import Patient
from app.reports import summary_draft
from app.reports.models import StageSummary
from tenants.context import tenant_context
from tenants.db import db
from tests.reports.test_health_report import _two_exams


def test_the_draft_is_the_same_for_the_same_data_and_holds_the_numbers(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant, sex="F", birth_date=date(1970, 3, 8))
    _two_exams(app, tenant, patient)
    with app.app_context(), tenant_context(tenant.id), app.test_request_context():
        p = db.session.get(Patient, (tenant.id, patient.id))
        with force_locale("en"):
            first = summary_draft.draft(p, date(2026, 1, 1), date(2026, 6, 10), "en")
            assert first == summary_draft.draft(p, date(2026, 1, 1), date(2026, 6, 10), "en")
        assert "· Fasting glucose: 5.20 → 7.40 mmol/L, up (now high)" in first
        assert "· ALT: 62 → 35 U/L, down (now within the reference interval)" in first
        assert "· Newly abnormal: Fasting glucose, Diastolic blood pressure, Systolic blood pressure" in first
        assert "· Back within the interval: ALT" in first
        assert "· Recheck at the next visit: Fasting glucose, Diastolic blood pressure, Systolic blood pressure." \
            in first
        assert "· No follow-up contact was recorded in the period." in first
        assert first.startswith("【Period】\n· 2026-01-01 to 2026-06-10")
        # a period with only the first exam: its values alone, nothing to compare
        earlier = summary_draft.draft(p, date(2025, 1, 1), date(2025, 12, 31), "en")
        assert "· Fasting glucose: 5.20 mmol/L (within the reference interval)" in earlier
        assert "· Newly abnormal: ALT" in earlier
        chinese = summary_draft.draft(p, date(2026, 1, 1), date(2026, 6, 10), "zh_CN")
        assert "空腹血糖：5.20 → 7.40 mmol/L，上升（现偏高）" in chinese


def test_draft_edit_sign_lock_and_amend(app, make_tenant, make_patient, make_staff, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, name="周晓梅", sex="F", birth_date=date(1970, 3, 8))
    _two_exams(app, tenant, patient)
    manager = client_for(tenant, make_staff(tenant, "health_manager").email)
    doctor = client_for(tenant, make_staff(tenant, "doctor").email)
    base = f"/patients/{patient.id}/summaries"

    bad = manager.submit(base, data={"kind": "custom", "start": "2026-06-01", "end": "2026-05-01"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="e-start"' in page and 'value="2026-06-01"' in page  # typing kept
    assert manager.submit(base, data={"kind": "plan", "plan_id": ""}).status_code == 400
    assert manager.submit(base, data={"kind": "custom", "start": "2026-01-01", "end": "2027-01-01"}).status_code == 400

    made = manager.submit(base, data={"kind": "custom", "start": "2026-01-01", "end": "2026-06-10"})
    assert made.status_code == 302
    url = made.headers["Location"]
    page = manager.get(url).get_data(as_text=True)
    assert "7.40" in page and "<textarea" in page
    edited = "【医生意见】\n血糖偏高，请控制饮食，三个月后复查空腹血糖。"
    assert manager.submit(url, data={"text": edited, "action": "save"}).status_code == 302
    refused = manager.submit(url, data={"text": edited + "（未签）", "action": "sign"})
    assert refused.status_code == 403 and "（未签）" in refused.get_data(as_text=True)  # typing kept
    empty = doctor.submit(url, data={"text": "  ", "action": "sign"})
    assert empty.status_code == 400 and 'id="e-text"' in empty.get_data(as_text=True)
    assert doctor.submit(url, data={"text": edited, "action": "sign"}).status_code == 302
    locked = doctor.submit(url, data={"text": "改掉", "action": "save"})
    assert locked.status_code == 409

    no_reason = doctor.submit(url + "/amend", data={"reason": " "})
    assert no_reason.status_code == 400 and 'id="e-reason"' in no_reason.get_data(as_text=True)
    amended = doctor.submit(url + "/amend", data={"reason": "补充复查时间"})
    second = amended.headers["Location"]
    assert second != url
    assert doctor.submit(second, data={"text": edited + "\n六月复查。", "action": "sign"}).status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(StageSummary).order_by(StageSummary.version)).all()
        assert [(r.version, r.status, r.reason) for r in rows] == [(1, "signed", ""), (2, "signed", "补充复查时间")]
        assert rows[0].text == edited and rows[1].text.endswith("六月复查。") and rows[0].chain_id == rows[1].chain_id
        assert "7.40" in rows[0].draft_text  # what CareLoop drafted is kept beside the doctor's words
        actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.patient_id == patient.id, AuditEvent.action.like("summary_%")).order_by(AuditEvent.id))]
        assert actions == ["summary_drafted", "summary_signed", "summary_amended", "summary_signed"]
    with app.app_context(), tenant_context(tenant.id), app.test_request_context():
        from app.reports import content, printing

        report = content.build(db.session.get(Patient, (tenant.id, patient.id)), date(2026, 6, 2), "zh_CN")
        assert report.summary.version == 2 and printing.shown_sections(report, "general_checkup")[0] == "summary"
    listing = doctor.get(base).get_data(as_text=True)
    assert len(re.findall(r"2026-01-01 – 2026-06-10", listing)) == 2

    other = make_tenant()
    outsider = client_for(other, other.owner_email)
    assert outsider.get(url).status_code == 404 and outsider.get(base).status_code == 404


def test_two_drafts_at_once_are_two_chains(app, make_tenant, make_patient, make_staff, client_for):
    """Each new summary's chain is named before it is stored: two drafted together do not collide."""
    tenant = make_tenant()
    patient = make_patient(tenant)
    _two_exams(app, tenant, patient)
    manager = client_for(tenant, make_staff(tenant, "health_manager").email)
    for kind in ("year", "since_last"):
        assert manager.submit(f"/patients/{patient.id}/summaries", data={"kind": kind}).status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(StageSummary)).all()
        assert len({r.chain_id for r in rows}) == 2 and all(r.chain_id == r.id for r in rows)
