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
    from app.questionnaires import definition, fhir_responses

    defn = dict(definition.pack_definition("phq9"), version=int(version))
    answers = {f"q{i}": item for i in range(1, 10)}
    resource = fhir_responses.response_to_fhir(defn, answers, questionnaire_url=f"https://demo.example.cn/fhir/Questionnaire/phq9|{version}",
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


# --- QuestionnaireResponse entries inside a lab Bundle posted to /api/v1/fhir ------------------------------------

LAB_URL = "/api/v1/fhir"


def _lab_bundle(card_no: str, *responses: dict) -> dict:
    """A lab Bundle (the patient, a blood-pressure panel) with QuestionnaireResponse entries after it."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {
            "resourceType": "Patient", "id": "p1", "identifier": [{"system": "urn:careloop:card", "value": card_no}],
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
                                   "code": "mm[Hg]"}}]}},
    ] + [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in responses]}


def _filed(app, clinic) -> tuple[list, list]:
    from app.questionnaires.models import QuestionnaireResponse
    from app.records.models import Observation

    with app.app_context(), tenant_context(clinic.id):
        responses = [(r.channel, r.status, r.scores[0]["value"]) for r in db.session.scalars(
            select(QuestionnaireResponse))]
        values = sorted(o.value_text for o in db.session.scalars(select(Observation)))
        return responses, values


def test_a_lab_bundle_files_its_observations_and_its_questionnaire_responses(app, make_tenant, make_patient,
                                                                              client_for):
    clinic = make_tenant()
    patient = make_patient(clinic)
    token = _token(app, clinic)
    client = client_for(clinic)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    with app.app_context():
        body = json.dumps(_lab_bundle(patient.card_no, _phq9_response(patient.card_no, rid="phq9-mixed")))
    answer = client.post(LAB_URL, data=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    said = [issue["diagnostics"] for issue in answer.json["issue"]]
    assert any(d.startswith("imported 1, results 2") for d in said) and "entry 3 (id phq9-mixed): filed" in said
    responses, values = _filed(app, clinic)
    assert responses == [("api", "submitted", 18)]
    assert values == ["152", "18", "96"]  # the panel's two results and the PHQ-9 total
    again = client.post(LAB_URL, data=body, headers=headers)  # the same Bundle again files nothing twice
    assert again.status_code == 200
    assert "entry 3 (id phq9-mixed): sent before; not filed again" in [i["diagnostics"] for i in again.json["issue"]]
    assert _filed(app, clinic) == (responses, values)
    # a Bundle of responses only is filed too, with no complaint that it holds no results
    with app.app_context():
        only = json.dumps({"resourceType": "Bundle", "type": "batch", "entry": [
            {"resource": _phq9_response(patient.card_no, item="0", rid="phq9-alone")}]})
    alone = client.post(LAB_URL, data=only, headers=headers)
    assert alone.status_code == 200 and alone.json["issue"] == [
        {"severity": "information", "code": "informational", "diagnostics": "entry 1 (id phq9-alone): filed"}]


def test_a_refused_response_in_a_lab_bundle_is_named_and_the_rest_is_filed(app, make_tenant, make_patient,
                                                                           client_for):
    clinic = make_tenant()
    patient = make_patient(clinic)
    token = _token(app, clinic)
    with app.app_context():
        body = json.dumps(_lab_bundle(patient.card_no, _phq9_response(patient.card_no, rid="good"),
                                      _phq9_response("NO-SUCH-CARD", rid="nobody")))
    answer = client_for(clinic).post(LAB_URL, data=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 207, answer.get_data(as_text=True)
    errors = [i["diagnostics"] for i in answer.json["issue"] if i["severity"] == "error"]
    assert len(errors) == 1 and errors[0].startswith("entry 4 (id nobody): subject.identifier names no card")
    responses, values = _filed(app, clinic)
    assert len(responses) == 1 and "152" in values and "96" in values


def test_a_token_without_the_responses_scope_files_none_of_them(app, make_tenant, make_patient, client_for,
                                                                 monkeypatch):
    import dataclasses

    from app.records import bundle_entries

    clinic = make_tenant()
    patient = make_patient(clinic)
    client = client_for(clinic)
    with app.app_context():
        body = json.dumps(_lab_bundle(patient.card_no, _phq9_response(patient.card_no, rid="phq9-mixed")))
    hl7_only = _token(app, clinic, scopes=("hl7:write",))  # no fhir:write: the door refuses the whole Bundle
    refused = client.post(LAB_URL, data=body, headers={"Authorization": f"Bearer {hl7_only}"})
    assert refused.status_code == 401
    assert _filed(app, clinic) == ([], [])
    # the responses' scope is checked for their entries on their own: a token with the lab scope but not the
    # one the responses are registered with files the results and refuses each response by name
    handler = bundle_entries._HANDLERS["QuestionnaireResponse"]
    monkeypatch.setitem(bundle_entries._HANDLERS, "QuestionnaireResponse",
                        dataclasses.replace(handler, scope="questionnaires:write"))
    lab_only = _token(app, clinic)
    answer = client.post(LAB_URL, data=body, headers={"Authorization": f"Bearer {lab_only}"})
    assert answer.status_code == 207, answer.get_data(as_text=True)
    assert {"severity": "error", "code": "security", "diagnostics": "entry 3: a token with the questionnaires:write "
            "scope is required to file a QuestionnaireResponse"} in answer.json["issue"]
    assert _filed(app, clinic) == ([], ["152", "96"])
