"""SMS through the provider adapter, against the local fake provider."""
import pytest
from sqlalchemy import select

from app.notifications import services
from app.notifications.models import Notification
from app.patients.models import Patient
from tenants.db import db
from tests.notifications.aliyun_server import fake_aliyun

pytestmark = pytest.mark.redis
CODE = {"code": "246810", "minutes": 5, "clinic": "康宁"}


@pytest.fixture
def provider(app, monkeypatch):
    with fake_aliyun({"LTAItest": "sms-secret"}, {"康宁"},
                     {"CARELOOP_SIGNIN_CODE": {"code", "minutes", "clinic"}}) as fake:
        monkeypatch.setitem(app.config, "SMS_URL", f"aliyun+http://LTAItest:sms-secret@{fake.url.split('//')[1]}"
                                                   "?sign_name=%E5%BA%B7%E5%AE%81")
        monkeypatch.setitem(app.config, "NOTIFY_BACKOFF_SECONDS", 0)
        yield fake


def _send_code(as_tenant, tenant, patient_id, key):
    with as_tenant(tenant):
        patient = db.session.get(Patient, (tenant.id, patient_id))
        services.notify("signin_code", services.patient_recipient(patient), CODE, idempotency_key=key,
                        channels=("sms",))
        db.session.commit()


def _row(as_tenant, tenant, key):
    with as_tenant(tenant):
        return db.session.scalar(select(Notification).where(Notification.idempotency_key == f"{key}:sms"))


def test_code_goes_out_with_template_parameters(make_tenant, make_patient, as_tenant, provider, drain):
    tenant = make_tenant()
    patient = make_patient(tenant, mobile="13700001111")
    provider.fail_next_with_status(503, times=2)
    _send_code(as_tenant, tenant, patient.id, "code1")
    drain()
    assert [(m.phone, m.template_code, m.params) for m in provider.sent] == [
        ("13700001111", "CARELOOP_SIGNIN_CODE", {"code": "246810", "minutes": "5", "clinic": "康宁"})]
    row = _row(as_tenant, tenant, "code1")
    assert row.status == "sent" and row.attempts == 3 and row.provider_id


def test_provider_refusal_fails_without_retrying(app, make_tenant, make_patient, as_tenant, provider, drain,
                                                 monkeypatch):
    monkeypatch.setitem(app.config, "SMS_URL", app.config["SMS_URL"].replace("sms-secret", "wrong"))
    tenant = make_tenant()
    patient = make_patient(tenant, mobile="13700002222")
    _send_code(as_tenant, tenant, patient.id, "code2")
    drain()
    row = _row(as_tenant, tenant, "code2")
    assert row.status == "failed" and row.attempts == 1 and "SignatureDoesNotMatch" in row.last_error
    assert provider.sent == []
