"""Everything that identifies a person sealed at rest, data keys checked in
production, and key rotation while the app runs."""
import base64
import secrets
from datetime import date

import pytest
from sqlalchemy import select, text

from app.config import ConfigError, check_production
from app.core import crypto
from app.patients import services as patients
from app.records import importer
from app.records.models import ExamReport
from tenants.context import tenant_context
from tenants.db import db
from tests.helpers import valid_id

MOBILE, ID_NUMBER = "13912346666", valid_id(date(1980, 5, 17), "F")


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _raw_row(table: str, row_id: int, tenant_id: int) -> str:
    return repr(tuple(db.session.execute(text(f"SELECT * FROM {table} WHERE tenant_id = :t AND id = :id"),
                                         {"t": tenant_id, "id": row_id}).one()))


def test_a_cards_contact_details_are_sealed_in_the_database(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant, mobile=MOBILE, email="zhang.minghua@example.cn", address="上海市黄浦区人民路1号",
                           emergency_name="张小红", emergency_phone="13800001111")
    with app.app_context(), tenant_context(tenant.id):
        raw = _raw_row("patients", patient.id, tenant.id)
        for plain in (MOBILE, "zhang.minghua", "人民路", "张小红", "13800001111"):
            assert plain not in raw and plain.encode() not in raw.encode()
        card = patients.get(patient.id)
        assert (card.email, card.address, card.emergency_name) == ("zhang.minghua@example.cn", "上海市黄浦区人民路1号",
                                                                    "张小红")


def test_an_unmatched_reports_identifiers_are_sealed(app, make_tenant):
    tenant = make_tenant()
    message = ("\r".join([
        "MSH|^~\\&|LIS|检验科|CARELOOP|DEMO|20240506093000||ORU^R01|SEAL1|P|2.5.1",
        f"PID|1||NOBODY^^^^MR~{ID_NUMBER}^^^^NNCHN||欧阳无名||19800517|M",
        "OBR|1||S-1|LAB^生化|||20240506083000",
        "OBX|1|NM|14771-0^空腹血糖^LN||6.8|mmol/L||H|||F|||20240506083000"]) + "\r").encode()
    with app.app_context(), tenant_context(tenant.id):
        summary = importer.import_file(message, "lab.hl7")
        db.session.commit()
        assert summary.unmatched == 1
        report = db.session.scalar(select(ExamReport).where(ExamReport.status == "unmatched"))
        raw = _raw_row("exam_reports", report.id, tenant.id)
        assert ID_NUMBER not in raw and "欧阳无名" not in raw and "19800517" not in raw
        assert report.pending["patient"]["name"] == "欧阳无名" and "欧阳无名" in report.patient_hint


@pytest.mark.parametrize("bad", ["short", "dev-data-key-not-for-production", base64.b64encode(b"x" * 31).decode()])
def test_production_refuses_a_data_key_that_is_not_32_random_bytes(bad):
    config = {"CARELOOP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATA_KEY": bad}
    with pytest.raises(ConfigError, match="DATA_KEY"):
        check_production(config)
    with pytest.raises(ConfigError, match="DATA_KEY_PREVIOUS"):
        check_production(dict(config, DATA_KEY=_key(), DATA_KEY_PREVIOUS="old-phrase"))
    check_production(dict(config, DATA_KEY=_key(), DATA_KEY_PREVIOUS=_key()))


def _app_with(session_app, **keys):
    from app import create_app

    kept = ("TESTING", "CARELOOP_ENV", "SQLALCHEMY_DATABASE_URI", "DATABASE_OWNER_URL", "REDIS_URL", "RQ_NAMESPACE",
            "STORAGE_URL", "SECRET_KEY")
    return create_app({**{k: session_app.config[k] for k in kept}, **keys})


def test_keys_rotate_while_the_app_runs(app, make_tenant):
    old, new = _key(), _key()
    first = _app_with(app, DATA_KEY=old)
    tenant = make_tenant()
    with first.app_context(), tenant_context(tenant.id):
        card = patients.enrol(patients.PatientData(name="轮换", sex="F", birth_date=date(1980, 5, 17), mobile=MOBILE,
                                                   id_number=ID_NUMBER, email="lun.huan@example.cn"),
                              consent_version="t")
        db.session.commit()
        card_id = card.id
    rotating = _app_with(app, DATA_KEY=new, DATA_KEY_PREVIOUS=old, DATA_INDEX_KEY=old)
    with rotating.app_context(), tenant_context(tenant.id):  # mid-rotation: old rows open, lookups find them
        assert patients.get(card_id).email == "lun.huan@example.cn"
        assert patients.find_by_id_number(ID_NUMBER).id == card_id
        assert patients.search(MOBILE).patients[0].id == card_id
    runner = rotating.test_cli_runner()
    status = ["keys", "status", "--tenant", tenant.slug]
    assert f"{tenant.slug}\t1 rows on a previous key" in runner.invoke(args=status).output
    result = runner.invoke(args=["keys", "rotate", "--tenant", tenant.slug])
    assert result.exit_code == 0 and f"{tenant.slug}\t1 rows re-sealed" in result.output, result.output
    assert f"{tenant.slug}\t0 rows on a previous key" in runner.invoke(args=status).output
    done = _app_with(app, DATA_KEY=new, DATA_INDEX_KEY=old)  # the old key is gone from the configuration
    with done.app_context(), tenant_context(tenant.id):
        card = patients.get(card_id)
        assert (card.email, patients.identifiers(card)) == ("lun.huan@example.cn", (MOBILE, ID_NUMBER))
        assert patients.find_by_id_number(ID_NUMBER).id == card_id
        raw = db.session.execute(text("SELECT email, mobile_enc FROM patients WHERE tenant_id = :t AND id = :id"),
                                 {"t": tenant.id, "id": card_id}).one()
        assert all(crypto.is_current(blob) for blob in raw)
    forgotten = _app_with(app, DATA_KEY=_key(), DATA_INDEX_KEY=old)  # a key nobody kept: nothing opens
    with forgotten.app_context(), tenant_context(tenant.id), pytest.raises(ValueError, match="does not know"):
        patients.get(card_id)
