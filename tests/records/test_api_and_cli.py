"""Machine-to-machine sync over HTTP with per-clinic tokens, and the CLI."""
import json
import re
import time

from rq import SimpleWorker
from sqlalchemy import select

from app.core import jobs
from app.records import api_tokens
from app.records.models import Observation
from tenants.context import tenant_context
from tenants.db import db


def _oru(card_no: str, control: str = "MSG0001", value: str = "6.8", status: str = "F") -> str:
    return "\r".join([
        f"MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|20240506093000||ORU^R01|{control}|P|2.5.1",
        f"PID|1||{card_no}||张明华||19700101|M",
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
    unknown = client.post("/api/v1/hl7", data=_oru(patient.card_no, "MSG0002").replace("14771-0", "XYZ-1").encode(),
                          headers=headers)
    answer = unknown.get_data(as_text=True)  # accepted: the result waits for its code, named in a warning
    assert unknown.status_code == 200 and "MSA|AA|MSG0002" in answer
    assert "ERR|||0^Message accepted^HL70357|W|" in answer and "XYZ-1" in answer and "unknown code" in answer


def test_each_message_of_a_batch_gets_its_own_acknowledgement(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    headers = {"Authorization": f"Bearer {_token(app, tenant)}", "Content-Type": "application/hl7-v2"}
    adt = "MSH|^~\\&|HIS|康宁|CARELOOP|DEMO|20240506093000||ADT^A01|ADT1|P|2.5.1\rPID|1||X||张明华\r"
    no_pid = ("MSH|^~\\&|LIS|康宁检验科|CARELOOP|DEMO|20240506093000||ORU^R01|NOPID|P|2.5.1\r"
              "OBR|1\rOBX|1|NM|14771-0^^LN||5|mmol/L\r")
    batch = ("FHS|^~\\&\rBHS|^~\\&\r" + _oru(patient.card_no, "OK1") + adt + no_pid
             + _oru(patient.card_no, "OK2", value="7.1").replace("A1001", "A1002") + "BTS|4\rFTS|1\r")
    response = client_for(tenant).post("/api/v1/hl7", data=batch.encode(), headers=headers)
    acks = [a for a in response.get_data(as_text=True).split("MSH|")[1:]]
    msa = [next(line for line in ("MSH|" + a).split("\r") if line.startswith("MSA")) for a in acks]
    assert [m.split("|")[1:3] for m in msa] == [["AA", "OK1"], ["AR", "ADT1"], ["AE", "NOPID"], ["AA", "OK2"]]
    assert "ERR|||200^Unsupported message type^HL70357|E|" in acks[1]
    assert "ERR|||100^Segment sequence error^HL70357|E|" in acks[2]
    assert response.status_code == 422
    assert sorted(_values(app, tenant, patient.id)) == ["6.8", "7.1"]


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
    listing = admin.get("/settings/api-tokens").get_data(as_text=True)
    assert token[:10] in listing and token not in listing  # only the prefix is shown after creation
    token_id = re.search(r"/settings/api-tokens/(\d+)/revoke", listing).group(1)
    admin.submit(f"/settings/api-tokens/{token_id}/revoke")
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
                                                    "name": [{"text": "张明华"}]}},
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


def _work_until(app, client, location: str, headers: dict, seconds: float = 60.0):
    """Run queued jobs until the status address stops answering 202 (another worker of this run may have
    taken the job)."""
    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            SimpleWorker([jobs.queue(name) for name in jobs.QUEUES], connection=jobs.redis_connection()).work(
                burst=True)
        answer = client.get(location, headers=headers)
        if answer.status_code != 202 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_a_large_bundle_is_accepted_with_a_status_address(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant)
    token = _token(app, tenant)
    app.config["FHIR_SYNC_ENTRIES"] = 5
    try:
        entries = [{"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
                    "resource": {"resourceType": "Observation", "status": "final",
                                 "identifier": [{"system": "urn:lab", "value": f"o{n}"}],
                                 "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                                 "subject": {"identifier": {"value": patient.card_no}, "display": "张明华"},
                                 "effectiveDateTime": f"2024-05-{n + 1:02d}T08:00:00+08:00",
                                 "valueQuantity": {"value": 60 + n, "system": "http://unitsofmeasure.org",
                                                   "code": "/min"}}} for n in range(8)]
        body = json.dumps({"resourceType": "Bundle", "type": "batch", "entry": entries}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
        client = client_for(tenant)
        accepted = client.post("/api/v1/fhir", data=body, headers=headers)
        assert accepted.status_code == 202 and accepted.json["resourceType"] == "OperationOutcome"
        location = accepted.headers["Location"]
        assert client.get(location).status_code == 401  # the same bearer token is needed to ask
        stranger = {"Authorization": f"Bearer {_token(app, make_tenant())}"}
        assert client.get(location, headers=stranger).status_code == 401  # another clinic's token
        assert client.get(location, headers=headers).status_code == 202  # no worker has run yet
        done = _work_until(app, client, location, headers)
        assert done.status_code == 200
        assert "imported 8, results 8" in done.json["issue"][-1]["diagnostics"]
        assert len(_values(app, tenant, patient.id)) == 8
    finally:
        app.config.pop("FHIR_SYNC_ENTRIES")
