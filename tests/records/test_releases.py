"""Results reach the patient's portal an exam day at a time: a doctor releases them, or (where the clinic
chose it) a day whose results are all normal goes out by itself after the clinic's hours; a day with an
abnormal result waits for a doctor. Home readings, and results stored before releases existed, show at once."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.notifications.models import Notification
from app.patients.models import Patient
from app.records import releases
from app.records import services as records
from app.records.models import ReleaseSettings, ResultRelease
from tenants.context import tenant_context
from tenants.db import db
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)

MOBILE = "13912340077"
DAY_ONE = datetime(2026, 6, 1, 1, 30, tzinfo=timezone.utc)
DAY_TWO = datetime(2026, 6, 2, 1, 30, tzinfo=timezone.utc)


def _store(app, tenant, patient_id, when, values, origin="manual"):
    with app.app_context(), tenant_context(tenant.id):
        p = db.session.get(Patient, (tenant.id, patient_id))
        records.store_many(p, [records.Value(records.indicator_by_code(code), text, unit, when)
                               for code, text, unit in values], origin=origin)
        db.session.commit()


def _sent(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalars(select(Notification).where(Notification.template_key == "report_ready")).all()


def test_a_doctor_releases_an_exam_day(app, make_tenant, make_patient, make_staff, client_for, patient_client):
    tenant = make_tenant()
    patient = make_patient(tenant, name="林小雨", mobile=MOBILE)
    _store(app, tenant, patient.id, DAY_ONE, [("14771-0", "7.93", "mmol/L"), ("8480-6", "126", "mm[Hg]")])
    _store(app, tenant, patient.id, DAY_TWO, [("29463-7", "61.5", "kg")], origin="patient")  # a home reading
    portal = patient_client(tenant, MOBILE)
    page = portal.get("/portal/results").get_data(as_text=True)
    assert "7.93" not in page and "61.5" in page and "有 1 次体检的结果正在由医生审阅" in page

    manager = client_for(tenant, make_staff(tenant, "health_manager").email)
    staff_page = manager.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    assert "2026-06-01 · 1 项异常" in staff_page and "由医生向患者发布结果" in staff_page
    assert manager.submit(f"/patients/{patient.id}/results/release", data={"day": "2026-06-01"}).status_code == 403

    doctor = client_for(tenant, make_staff(tenant, "doctor").email)
    for _twice in range(2):
        assert doctor.submit(f"/patients/{patient.id}/results/release", data={"day": "2026-06-01"}).status_code == 302
    assert doctor.submit(f"/patients/{patient.id}/results/release", data={"day": "not a day"}).status_code == 302
    page = portal.get("/portal/results").get_data(as_text=True)
    assert "7.93" in page and "正在由医生审阅" not in page
    sent = _sent(app, tenant)
    assert len(sent) == 1 and "2026-06-01" in sent[0].body_text and "7.93" not in sent[0].body_text
    assert 'id="release"' not in doctor.get(f"/patients/{patient.id}/records").get_data(as_text=True)
    with app.app_context(), tenant_context(tenant.id):
        assert [r.mode for r in db.session.scalars(select(ResultRelease))] == ["doctor"]


def test_normal_days_go_out_by_themselves_after_the_clinics_hours(app, make_tenant, make_patient, client_for,
                                                                  pinned_clock):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    for bad in ("0", "abc", "721"):
        refused = owner.submit("/results/release-settings", data={"auto_release_hours": bad})
        assert refused.status_code == 400 and 'id="e-hours"' in refused.get_data(as_text=True)
        assert f'value="{bad}"' in refused.get_data(as_text=True)  # the typing is kept
    assert owner.submit("/results/release-settings", data={"auto_release_hours": "24"}).status_code == 302

    calm, worrying = make_patient(tenant, name="平安"), make_patient(tenant, name="异常")
    _store(app, tenant, calm.id, DAY_ONE, [("14771-0", "5.1", "mmol/L")])
    _store(app, tenant, worrying.id, DAY_ONE, [("14771-0", "9.9", "mmol/L")])
    with app.app_context(), tenant_context(tenant.id):
        assert releases.release_due() == 0  # stored just now: not settled yet
    pinned_clock.shift(timedelta(hours=23))
    _store(app, tenant, calm.id, DAY_TWO, [("8480-6", "118", "mm[Hg]")])  # a later day, stored later
    pinned_clock.shift(timedelta(hours=2))
    result = app.test_cli_runner().invoke(args=["records", "release-due"])
    assert result.exit_code == 0 and f"{tenant.slug}: released 1 exam days" in result.output
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(ResultRelease)).all()
        assert [(r.patient_id, r.exam_date.isoformat(), r.mode) for r in rows] == [(calm.id, "2026-06-01", "auto")]
    assert len(_sent(app, tenant)) == 1  # the patient is told, as for a doctor's release


def test_results_stored_before_releases_existed_stay_shown(app, make_tenant, make_patient, patient_client):
    tenant = make_tenant()
    patient = make_patient(tenant, mobile=MOBILE)
    _store(app, tenant, patient.id, DAY_ONE, [("14771-0", "6.66", "mmol/L")])
    with app.app_context(), tenant_context(tenant.id):  # as the migration leaves a clinic that had results
        db.session.add(ReleaseSettings(tenant_id=tenant.id, shown_before=datetime.now(timezone.utc)
                                       + timedelta(seconds=1)))
        db.session.commit()
    assert "6.66" in patient_client(tenant, MOBILE).get("/portal/results").get_data(as_text=True)


def test_scores_and_risk_results_are_not_exams(app, make_tenant, make_patient, patient_client):
    """A questionnaire score is the patient's own (shown at once); a risk model's result waits for its day's
    exam; neither makes an exam day to release or print."""
    from app.reports import content

    tenant = make_tenant()
    patient = make_patient(tenant, mobile=MOBILE)
    _store(app, tenant, patient.id, DAY_ONE, [("14771-0", "5.55", "mmol/L")], origin="risk")
    _store(app, tenant, patient.id, DAY_TWO, [("8480-6", "121", "mm[Hg]")], origin="response")
    with app.app_context(), tenant_context(tenant.id):
        assert releases.waiting(patient.id) == [] and content.exam_dates(patient.id) == []
    page = patient_client(tenant, MOBILE).get("/portal/results").get_data(as_text=True)
    assert "121" in page and "5.55" not in page
