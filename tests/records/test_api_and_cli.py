"""Machine-to-machine sync over HTTP with per-clinic tokens, and the CLI."""
import json
import re

from sqlalchemy import select

from app.records import api_tokens
from app.records.models import Observation
from tenants.context import tenant_context
from tenants.db import db


def _oru(card_no: str, control: str = "MSG0001", value: str = "6.8", status: str = "F") -> str:
    return "\r".join([
        f"MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|20240506093000||ORU^R01|{control}|P|2.5.1",
        f"PID|1||{card_no}||张三||19700101|M",
        "OBR|1||A1001|LAB^体检生化|||20240506083000",
        f"OBX|1|NM|14771-0^空腹血糖^LN||{value}|mmol/L|3.9-6.1|H|||{status}|||20240506083000",
    ]) + "\r"


def _token(app, tenant, scopes=("fhir:write", "hl7:write")) -> str:
    with app.app_context(), tenant_context(tenant.id):
        _row, token = api_tokens.create("lab system", list(scopes), None)
        db.session.commit()
    return token


def _values(app, tenant, patient_id):
    with app.app_context(), tenant_context(tenant.id):
        return [o.value_text for o in db.session.scalars(select(Observation).where(
            Observation.patient_id == patient_id, Observation.superseded_by.is_(None)))]


def test_hl7_endpoint_answers_with_ack_and_is_idempotent(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    token = _token(app, tenant)
    client = client_for(tenant)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/hl7-v2"}
    first = client.post("/api/v1/hl7", data=_oru(patient.card_no).encode(), headers=headers)
    ack = first.get_data(as_text=True)
    assert first.status_code == 200 and "MSA|AA|MSG0001" in ack
    again = client.post("/api/v1/hl7", data=_oru(patient.card_no).encode(), headers=headers)
    assert again.status_code == 200
    assert _values(app, tenant, patient.id) == ["6.8"]
    bad = client.post("/api/v1/hl7", data=_oru(patient.card_no).replace("14771-0", "XYZ-1").encode(),
                      headers=headers)
    assert bad.status_code == 422 and "MSA|AE|MSG0001" in bad.get_data(as_text=True)
    assert "XYZ-1" in bad.get_data(as_text=True) and "unknown test code" in bad.get_data(as_text=True)  # English


def test_tokens_are_per_clinic_scoped_and_revocable(app, make_tenant, make_patient, client_for):
    tenant, other = make_tenant(), make_tenant()
    patient = make_patient(tenant)
    token = _token(app, tenant, scopes=("hl7:write",))
    message = _oru(patient.card_no).encode()
    auth = {"Authorization": f"Bearer {token}"}
    assert client_for(other).post("/api/v1/hl7", data=message, headers=auth).status_code == 401
    assert client_for(tenant).post("/api/v1/fhir", data=b"{}", headers=auth).status_code == 401  # wrong scope
    assert client_for(tenant).post("/api/v1/hl7", data=message, headers={}).status_code == 401
    admin = client_for(tenant, tenant.owner_email)
    listing = admin.get("/records/api-tokens").get_data(as_text=True)
    assert token[:10] in listing and token not in listing  # only the prefix is shown after creation
    token_id = re.search(r"/records/api-tokens/(\d+)/revoke", listing).group(1)
    admin.submit(f"/records/api-tokens/{token_id}/revoke")
    assert client_for(tenant).post("/api/v1/hl7", data=message, headers=auth).status_code == 401
    with app.app_context(), tenant_context(tenant.id):
        from app.records.models import ApiToken

        stored = db.session.scalars(select(ApiToken.token_hash)).all()
        assert token not in stored and all(len(h) == 64 for h in stored)


def test_fhir_endpoint_imports_a_bundle(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    token = _token(app, tenant)
    bundle = {
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1",
                                                    "identifier": [{"system": "urn:careloop:card",
                                                                    "value": patient.card_no}],
                                                    "name": [{"text": "张三"}]}},
            {"fullUrl": "urn:uuid:o1", "resource": {
                "resourceType": "Observation", "id": "o1", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                "subject": {"reference": "urn:uuid:p1"}, "effectiveDateTime": "2024-05-06T08:30:00+08:00",
                "component": [
                    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                     "valueQuantity": {"value": 152, "unit": "mmHg", "system": "http://unitsofmeasure.org",
                                       "code": "mm[Hg]"}},
                    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                     "valueQuantity": {"value": 96, "unit": "mmHg", "system": "http://unitsofmeasure.org",
                                       "code": "mm[Hg]"}}]}}]}
    response = client_for(tenant).post("/api/v1/fhir", data=json.dumps(bundle),
                                       headers={"Authorization": f"Bearer {token}",
                                                "Content-Type": "application/fhir+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert sorted(_values(app, tenant, patient.id)) == ["152", "96"]
    broken = client_for(tenant).post("/api/v1/fhir", data=b'{"resourceType": "Observation", "status": 7}',
                                     headers={"Authorization": f"Bearer {token}"})
    assert broken.status_code == 422 and "OperationOutcome" in broken.get_data(as_text=True)
    assert "not valid FHIR R4" in broken.get_data(as_text=True)  # in English for the lab system


def test_cli_import(app, make_tenant, make_patient, tmp_path):
    tenant = make_tenant()
    patient = make_patient(tenant)
    path = tmp_path / "batch.hl7"
    path.write_bytes((_oru(patient.card_no, "M1", "5.0") + "\n" + _oru("NOBODY", "M2", "5.1")).encode())
    result = app.test_cli_runner().invoke(args=["records", "import", str(path), "--tenant", tenant.slug])
    assert result.exit_code == 0, result.output
    assert "imported 1 reports" in result.output and "1 unmatched" in result.output
    missing = app.test_cli_runner().invoke(args=["records", "import", str(path), "--tenant", "no-such-clinic"])
    assert missing.exit_code != 0 and "no clinic" in missing.output
