"""QuestionnaireResponse resources posted to the sync API are filed, scored and stored once."""
import json

import pytest
from sqlalchemy import select

from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.postgres
URL = "/api/v1/fhir/QuestionnaireResponse"


def _token(app, tenant, scopes=("fhir:write",)) -> str:
    from app.questionnaires import library
    from app.records import api_tokens

    with app.app_context(), tenant_context(tenant.id):
        library.sync_pack()
        _row, token = api_tokens.create("survey kiosk", list(scopes), None)
        db.session.commit()
        return token


def _phq9_response(card_no: str, item: str = "2", rid: str = "qr-1", status: str = "completed",
                   version: str = "1") -> dict:
    """Shaped like the FHIR specification's QuestionnaireResponse examples: items by linkId, each answer a
    valueCoding of the questionnaire's answer options."""
    from app.questionnaires import definition, fhir

    defn = dict(definition.pack_definition("phq9"), version=int(version))
    answers = {f"q{i}": item for i in range(1, 10)}
    resource = fhir.response_to_fhir(defn, answers, questionnaire_url=f"https://demo.example.cn/fhir/Questionnaire/phq9|{version}",
                                     subject_ref="Patient/x", authored="2026-12-01T09:30:00+08:00")
    resource.update({"id": rid, "status": status, "subject": {"identifier": {"value": card_no}}})
    return resource


def test_a_completed_response_is_filed_once(app, make_tenant, make_patient, client_for):
    clinic = make_tenant()
    patient = make_patient(clinic)
    token = _token(app, clinic)
    client = client_for(clinic)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    with app.app_context():
        body = json.dumps(_phq9_response(patient.card_no))
    answer = client.post(URL, data=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    again = client.post(URL, data=body, headers=headers)
    assert again.status_code == 200 and "sent before" in again.get_data(as_text=True)
    from app.questionnaires.models import QuestionnaireResponse
    from app.records.models import Observation

    with app.app_context(), tenant_context(clinic.id):
        rows = list(db.session.scalars(select(QuestionnaireResponse)))
        assert len(rows) == 1 and rows[0].status == "submitted" and rows[0].channel == "api"
        assert rows[0].scores[0]["value"] == 18 and rows[0].submitted_at.isoformat().startswith("2026-12-01T01:30")
        assert len(list(db.session.scalars(select(Observation)))) == 1


def test_what_cannot_be_filed_is_named(app, make_tenant, make_patient, client_for):
    clinic = make_tenant()
    patient = make_patient(clinic)
    token = _token(app, clinic)
    client = client_for(clinic)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    with app.app_context():
        good = _phq9_response(patient.card_no, rid="good")
        unknown = _phq9_response("NO-SUCH-CARD", rid="nobody")
        draft = _phq9_response(patient.card_no, rid="draft", status="in-progress")
        wrong = _phq9_response(patient.card_no, rid="wrong")
        wrong["item"][0]["item"][0]["linkId"] = "no-such-item"
    bundle = {"resourceType": "Bundle", "type": "batch",
              "entry": [{"resource": r} for r in (good, unknown, draft, wrong)]}
    answer = client.post(URL, data=json.dumps(bundle), headers=headers)
    assert answer.status_code == 207
    text = answer.get_data(as_text=True)
    assert "entry 2 (id nobody)" in text and "no card" in text
    assert "entry 3 (id draft)" in text and "only completed" in text
    assert "entry 4 (id wrong)" in text and "no-such-item" in text
    assert client.post(URL, data="not json", headers=headers).status_code == 400
    assert client.post(URL, data=json.dumps(good), headers={"Authorization": "Bearer nope"}).status_code == 401
    hl7_only = _token(app, clinic, scopes=("hl7:write",))
    assert client.post(URL, data=json.dumps(good), headers={"Authorization": f"Bearer {hl7_only}"}).status_code == 401


def test_another_clinics_token_files_nothing(app, make_tenant, make_patient, client_for):
    clinic, other = make_tenant(), make_tenant()
    patient = make_patient(clinic)
    token = _token(app, other)
    with app.app_context():
        body = json.dumps(_phq9_response(patient.card_no))
    answer = client_for(clinic).post(URL, data=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
