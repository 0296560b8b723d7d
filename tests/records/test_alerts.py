"""Result alerts: grouped per patient and report, the critical tier (banner,
acknowledgement with who was informed, deadline, escalation), filters,
paging and bulk acknowledgement; and "resolved" only inside a known range."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.notifications.models import Notification
from app.patients.models import Patient
from app.records import alerts, importer, trends
from app.records import services as records
from app.records.models import Alert, AlertContact, AlertItem, Indicator
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today

FINAL, CORRECTED = "final", "corrected"
SYSTOLIC, DIASTOLIC, GLUCOSE, TG = "8480-6", "8462-4", "14771-0", "14927-8"


def _critical_limits():
    """Critical limits set by the clinic (the pack's own are another change's)."""
    limits = {SYSTOLIC: {"high": 180}, DIASTOLIC: {"high": 110}, GLUCOSE: {"high": 13.0}}
    for code, critical in limits.items():
        db.session.scalar(select(Indicator).where(Indicator.code == code)).critical = critical


def _clinic(app, make_tenant, make_staff, make_patient, **patient):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    person = make_patient(tenant, **patient)
    with app.app_context(), tenant_context(tenant.id):
        db.session.get(Patient, (tenant.id, person.id)).responsible_doctor_id = doctor.id
        _critical_limits()
        db.session.commit()
    return tenant, doctor, person


def _alerts():
    return list(db.session.scalars(select(Alert).order_by(Alert.created_at, Alert.id)))


def _items(alert):
    return sorted(i.summary for i in db.session.scalars(select(AlertItem).where(AlertItem.alert_id == alert.id)))


def _escalations():
    return sorted((n.recipient_id, n.channel) for n in db.session.scalars(select(Notification).where(
        Notification.template_key == "critical_alert_escalated")))


def test_bp_185_112_and_glucose_13_2_raise_one_critical_alert(app, make_tenant, make_staff, make_patient, report):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient)
    with app.app_context(), tenant_context(tenant.id):
        importer.import_parsed([report(patient.card_no, [
            (SYSTOLIC, "185", "mm[Hg]", "", FINAL), (DIASTOLIC, "112", "mm[Hg]", "", FINAL),
            (GLUCOSE, "13.2", "mmol/L", "", FINAL)])])
        db.session.commit()
        [alert] = _alerts()
        assert alert.kind == "critical" and alert.item_count == 3 and alert.report_id is not None
        kinds = sorted(i.kind for i in db.session.scalars(select(AlertItem)))
        assert kinds == ["critical", "critical", "critical"]
        assert alert.due_at - alert.critical_at == timedelta(minutes=30)  # the default deadline
        sent = list(db.session.scalars(select(Notification).where(Notification.recipient_id == doctor.id)))
        assert [(n.template_key, n.channel) for n in sent] == [("critical_result_alert", "inapp")]
        assert "185" in sent[0].body_text and "13.2" in sent[0].body_text


def test_one_alert_per_report_a_later_result_joins_it_and_a_result_alerts_once(app, make_tenant, make_staff,
                                                                                make_patient, report):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient)
    with app.app_context(), tenant_context(tenant.id):
        importer.import_parsed([report(patient.card_no, [
            (GLUCOSE, "7.0", "mmol/L", "", FINAL), (SYSTOLIC, "150", "mm[Hg]", "", FINAL),
            (DIASTOLIC, "80", "mm[Hg]", "", FINAL)], key="r1")])
        db.session.commit()
        [alert] = _alerts()
        assert (alert.kind, alert.item_count) == ("abnormal", 2)
        # the same report, corrected: the glucose becomes critical and joins the open alert, which turns critical
        importer.import_parsed([report(patient.card_no, [(GLUCOSE, "15.0", "mmol/L", "", CORRECTED)], key="r1")])
        importer.import_parsed([report(patient.card_no, [(GLUCOSE, "15.0", "mmol/L", "", CORRECTED)], key="r1")])
        db.session.commit()
        [alert] = _alerts()
        assert (alert.kind, alert.item_count) == ("critical", 3) and alert.due_at is not None
        keys = sorted(n.idempotency_key for n in db.session.scalars(select(Notification)))
        assert keys == [f"alert:{alert.id}:critical:inapp", f"alert:{alert.id}:inapp"]
        # a second report is another alert
        importer.import_parsed([report(patient.card_no, [(TG, "3.0", "mmol/L", "", FINAL)], key="r2",
                                       when=datetime(2024, 6, 1, tzinfo=timezone.utc))])
        db.session.commit()
        assert len(_alerts()) == 2
        # acknowledged, a new result of the same report opens a new alert for it
        alerts.acknowledge(alert, "已处理", doctor.id, informed="patient", informed_name="本人")
        importer.import_parsed([report(patient.card_no, [(DIASTOLIC, "95", "mm[Hg]", "", CORRECTED)], key="r1")])
        db.session.commit()
        grouped = [a for a in _alerts() if a.group_key == alert.group_key]
        assert [(a.status, a.item_count) for a in grouped] == [("acknowledged", 3), ("open", 1)]


def test_values_typed_in_group_per_patient_and_clinic_day(app, make_tenant, make_staff, make_patient, client_for):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient)
    with app.app_context(), tenant_context(tenant.id):
        ids = {code: records.indicator_by_code(code).id for code in (SYSTOLIC, DIASTOLIC, GLUCOSE)}
    client = client_for(tenant, doctor.email)
    for values in ({f"v-{ids[SYSTOLIC]}": "185", f"v-{ids[DIASTOLIC]}": "112"}, {f"v-{ids[GLUCOSE]}": "13.2"}):
        assert client.submit(f"/patients/{patient.id}/observations",
                             {"observed_on": "2025-06-01", **values}).status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        [alert] = _alerts()
        assert alert.group_key == f"day:{patient.id}:2025-06-01" and alert.report_id is None
        assert (alert.kind, alert.item_count) == ("critical", 3)


def test_a_critical_alert_needs_who_was_informed_and_a_batch_leaves_it_open(app, make_tenant, make_staff,
                                                                          make_patient, report, client_for):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient)
    with app.app_context(), tenant_context(tenant.id):
        importer.import_parsed([report(patient.card_no, [(GLUCOSE, "25", "mmol/L", "", FINAL)], key="c")])
        importer.import_parsed([report(patient.card_no, [(TG, "3.0", "mmol/L", "", FINAL)], key="a",
                                       when=datetime(2024, 6, 1, tzinfo=timezone.utc))])
        db.session.commit()
        critical, abnormal = sorted(_alerts(), key=lambda a: a.kind != "critical")
        with pytest.raises(alerts.AlertError) as refused:
            alerts.acknowledge(critical, "已处理", doctor.id)
        assert set(refused.value.errors) == {"informed", "informed_name"}
    client = client_for(tenant, doctor.email)
    page = client.get("/alerts").get_data(as_text=True)
    assert f'value="{abnormal.id}"' in page and f'name="ids" value="{critical.id}"' not in page  # no checkbox
    response = client.submit("/alerts/ack", {"ids": [str(critical.id), str(abnormal.id)], "note": "已电话随访"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已确认 1 条提醒。" in page and "1 条危急值提醒未确认" in page
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(Alert, (tenant.id, critical.id)).status == "open"
        done = db.session.get(Alert, (tenant.id, abnormal.id))
        assert done.status == "acknowledged" and done.note == "已电话随访" and done.acknowledged_by == doctor.id
        inbox = {n.idempotency_key: n.read_at for n in db.session.scalars(select(Notification))}
        assert inbox[f"alert:{abnormal.id}:inapp"] is not None  # the inbox copy is read
        assert inbox[f"alert:{critical.id}:critical:inapp"] is None


def test_the_banner_shows_open_critical_alerts_to_whom_they_concern(app, make_tenant, make_staff, make_patient,
                                                                    report, client_for):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient, name="危急者")
    other = make_staff(tenant, "doctor")
    with app.app_context(), tenant_context(tenant.id):
        importer.import_parsed([report(patient.card_no, [(SYSTOLIC, "185", "mm[Hg]", "", FINAL)])])
        db.session.commit()
        [alert] = _alerts()
    mine, theirs = client_for(tenant, doctor.email), client_for(tenant, other.email)
    page = mine.get("/patients").get_data(as_text=True)
    assert 'class="critical-banner"' in page and "危急者" in page and "1 条危急值待确认" in page
    assert "请于" in page and "前确认" in page  # the deadline, in clinic time
    assert 'class="critical-banner"' not in theirs.get("/patients").get_data(as_text=True)
    mine.submit(f"/alerts/{alert.id}/ack", {"note": "已通知患者就医", "informed": "family", "informed_name": "张女士"})
    assert 'class="critical-banner"' not in mine.get("/patients").get_data(as_text=True)
    with app.app_context(), tenant_context(tenant.id):
        done = db.session.get(Alert, (tenant.id, alert.id))
        assert (done.status, done.informed, done.informed_name) == ("acknowledged", "family", "张女士")


@pytest.mark.time_sensitive
def test_an_unacknowledged_critical_value_escalates_once_after_the_deadline(app, make_tenant, make_staff,
                                                                           make_patient, report, pinned_clock):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient)
    backup = make_staff(tenant, "doctor", email=f"backup@{tenant.slug}.example.cn")
    admin = make_staff(tenant, "admin", email=f"admin@{tenant.slug}.example.cn")
    with app.app_context(), tenant_context(tenant.id):
        alerts.update_settings(ack_minutes=20, backup_doctor_id=None,
                               people={doctor.id: (backup.id, ""), backup.id: (None, "13800138000"),
                                       admin.id: (None, "13900139000")})
        db.session.commit()
        assert db.session.scalar(select(AlertContact).where(AlertContact.staff_id == backup.id)).mobile \
            == "13800138000"
        importer.import_parsed([report(patient.card_no, [(GLUCOSE, "25", "mmol/L", "", FINAL)])])
        db.session.commit()
        [alert] = _alerts()
        due = alert.due_at
        assert due - alert.critical_at == timedelta(minutes=20)
    pinned_clock.move_to(due - timedelta(minutes=1))
    with app.app_context(), tenant_context(tenant.id):
        assert alerts.escalate_due() == 0
        db.session.commit()
        assert _escalations() == []
    pinned_clock.move_to(due + timedelta(minutes=1))
    result = app.test_cli_runner().invoke(args=["records", "escalate-critical"])
    assert result.exit_code == 0, result.output
    assert f"{tenant.slug} 1" in result.output
    expected = sorted((who, channel) for who in (backup.id, admin.id) for channel in ("email", "inapp", "sms"))
    with app.app_context(), tenant_context(tenant.id):
        assert _escalations() == expected
        escalated = db.session.get(Alert, (tenant.id, alert.id))
        assert escalated.escalated_at is not None and sorted(escalated.escalated_to) == sorted([backup.id, admin.id])
        from app.core.audit import AuditEvent

        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "alert_escalated")) == 1
    pinned_clock.move_to(due + timedelta(minutes=10))
    with app.app_context(), tenant_context(tenant.id):
        assert alerts.escalate_due() == 0
        db.session.commit()
        assert _escalations() == expected  # nothing more


def test_the_backup_and_the_admins_see_an_escalated_alert(app, make_tenant, make_staff, make_patient, report,
                                                          client_for, pinned_clock):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient)
    backup, bystander = make_staff(tenant, "doctor"), make_staff(tenant, "doctor")
    with app.app_context(), tenant_context(tenant.id):
        alerts.update_settings(ack_minutes=30, backup_doctor_id=backup.id, people={})
        importer.import_parsed([report(patient.card_no, [(GLUCOSE, "25", "mmol/L", "", FINAL)])])
        db.session.commit()
        due = _alerts()[0].due_at
    assert 'critical-banner' not in client_for(tenant, backup.email).get("/patients").get_data(as_text=True)
    pinned_clock.move_to(due + timedelta(minutes=1))
    with app.app_context(), tenant_context(tenant.id):
        assert alerts.escalate_due() == 1
        db.session.commit()
        told = {who for who, _channel in _escalations()}
        assert backup.id in told and len(told) == 2  # the backup, and the owner: the clinic has no admin
    assert 'critical-banner' in client_for(tenant, backup.email).get("/patients").get_data(as_text=True)
    assert 'critical-banner' not in client_for(tenant, bystander.email).get("/patients").get_data(as_text=True)


def test_the_alerts_page_filters_pages_and_keeps_the_filters(app, make_tenant, make_staff, make_patient, report,
                                                             client_for, monkeypatch):
    tenant, doctor, patient = _clinic(app, make_tenant, make_staff, make_patient)
    with app.app_context(), tenant_context(tenant.id):
        for n in range(6):  # high, normal, high...: three newly abnormal
            importer.import_parsed([report(patient.card_no, [(TG, "3.0" if n % 2 == 0 else "1.0", "mmol/L", "",
                                                              FINAL)], key=f"k{n}",
                                           when=datetime(2020 + n, 1, 1, tzinfo=timezone.utc))])
        importer.import_parsed([report(patient.card_no, [(GLUCOSE, "25", "mmol/L", "", FINAL)], key="crit")])
        db.session.commit()
    monkeypatch.setattr(alerts, "PAGE_SIZE", 2)
    client = client_for(tenant, doctor.email)
    page = client.get("/alerts").get_data(as_text=True)
    assert "第 1 页，共 2 页" in page and "4 条提醒" in page
    assert page.count('class="badge tier-critical"') == 1  # critical first
    partial = client.get("/alerts?page=2", headers={"HX-Request": "true", "HX-Target": "alert-results"})
    text = partial.get_data(as_text=True)
    assert "<html" not in text and 'rel="prev"' in text
    only = client.get("/alerts?tier=critical").get_data(as_text=True)
    assert len(re.findall(r'id="alert-\d', only)) == 1
    today = clinic_today()
    none = client.get(f"/alerts?until={(today - timedelta(days=2)).isoformat()}").get_data(as_text=True)
    assert not re.findall(r'id="alert-\d', none)
    assert client.get("/alerts?status=acknowledged").status_code == 200
    assert client.get("/alerts?doctor=none&page=x&since=nonsense").status_code == 200
    for label in ("f-tier", "f-status", "f-doctor", "f-since", "f-until"):
        assert f'<label for="{label}">' in page


def test_the_settings_page_sets_the_deadline_backups_and_numbers(app, make_tenant, make_staff, client_for):
    tenant = make_tenant()
    doctor, backup = make_staff(tenant, "doctor"), make_staff(tenant, "doctor")
    client = client_for(tenant, tenant.owner_email)
    assert client.get("/alerts/settings").status_code == 200
    bad = client.submit("/alerts/settings", {"ack_minutes": "2", f"mobile-{doctor.id}": "123"})
    assert bad.status_code == 400
    ok = client.submit("/alerts/settings", {"ack_minutes": "15", "backup_doctor_id": str(backup.id),
                                            f"backup-{doctor.id}": str(backup.id),
                                            f"mobile-{doctor.id}": "13800138000"})
    assert ok.status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        rules = alerts.settings()
        assert (rules.ack_minutes, rules.backup_doctor_id) == (15, backup.id)
        contact = alerts.contacts()[doctor.id]
        assert (contact.backup_id, contact.mobile) == (backup.id, "13800138000")
    page = client.get("/alerts/settings").get_data(as_text=True)
    assert "13800138000" not in page  # shown masked
    assert client_for(tenant, doctor.email).get("/alerts/settings").status_code == 403


def _cells(patient):
    data = trends.build(patient)
    return {row.indicator.code: [cell.change for _day, cell in sorted(row.cells.items())] for row in data.rows}


def test_a_later_value_is_resolved_only_inside_a_known_range(app, make_tenant, make_patient):
    tenant = make_tenant()
    person = make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        patient = db.session.get(Patient, (tenant.id, person.id))
        local = records.catalogue.add_local("X-1", "本地指标", "Local test", "U/L", "other")  # no range
        glucose = records.indicator_by_code(GLUCOSE)
        first, second, third = (datetime(2022 + n, 3, 1, tzinfo=timezone.utc) for n in range(3))
        records.store(patient, records.Value(local, "90", "U/L", first, lab_flag="H"))  # the lab said high
        records.store(patient, records.Value(local, "40", "U/L", second))  # typed, no range: cannot say
        records.store(patient, records.Value(local, "35", "U/L", third, ref_low=10, ref_high=50))  # inside
        records.store(patient, records.Value(glucose, "7.5", "mmol/L", first))
        records.store(patient, records.Value(glucose, "5.0", "mmol/L", second))
        db.session.commit()
        changes = _cells(patient)
        assert changes["X-1"] == ["new", "no_range", "resolved"]
        assert changes[GLUCOSE] == ["new", "resolved"]
