"""FHIR R4 Questionnaire / QuestionnaireResponse conversion: valid resources, exact round trips, foreign imports."""
import copy
import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from app.questionnaires.definition import check_definition, clean_answers, pack_definition, pack_definitions
from app.questionnaires.fhir import EXT_DEFINITION, ORDINAL, to_fhir_questionnaire
from app.questionnaires.fhir_import import from_fhir_questionnaire
from app.questionnaires.fhir_responses import answers_from_response, response_to_fhir
from app.questionnaires.scoring import score
from tests.questionnaires.helpers import choice, defn, t
from tests.questionnaires.test_definition import every_type

BASE = "https://clinic.example/fhir/Questionnaire"


def over_the_wire(resource: dict) -> dict:
    return json.loads(json.dumps(resource))


def demo():
    d = every_type()
    d["sections"][0]["questions"][0]["help"] = t("选一个", "Pick one")
    d["sections"][0]["questions"][1]["show_if"] = {"question": "single", "op": "gte", "value": 2}
    d["sections"][0]["questions"][3]["unit"] = "min/day"
    d["sections"].append({"key": "later", "title": t("之后", "Later"),
                          "show_if": {"any": [{"question": "yes", "op": "eq", "value": True},
                                              {"all": [{"question": "num", "op": "gt", "value": 10},
                                                       {"question": "grid.r1", "op": "eq", "value": "y"}]}]},
                          "questions": [choice("last")]})
    d["scores"] = [{"key": "total", "label": t("总分"), "method": "sum", "items": ["single", "grid"],
                    "bands": [{"key": "low", "min": 0, "max": 5, "label": t("低")}]}]
    d["flags"] = [{"key": "hi", "level": "warning", "message": t("高"),
                   "when": {"question": "single", "op": "eq", "value": "3"}}]
    assert check_definition(d) == []
    return d


@pytest.mark.parametrize("key", sorted(d["key"] for d in pack_definitions()))
def test_every_pack_instrument_exports_valid_fhir_and_round_trips(key):
    d = pack_definition(key)
    resource = to_fhir_questionnaire(d, url_base=BASE)
    Questionnaire.model_validate(resource)
    assert resource["url"] == f"{BASE}/{key}" and resource["version"] == "1"
    assert from_fhir_questionnaire(over_the_wire(resource)) == d


def test_the_demo_with_every_type_round_trips_and_maps_to_fhir_types():
    d = demo()
    resource = to_fhir_questionnaire(d, url_base=BASE + "/")
    Questionnaire.model_validate(resource)
    assert from_fhir_questionnaire(over_the_wire(resource)) == d
    items = {i["linkId"]: i for i in resource["item"][0]["item"]}
    assert {k: (i["type"], i.get("repeats", False)) for k, i in items.items()} == {
        "single": ("choice", False), "likert": ("choice", False), "multi": ("choice", True),
        "num": ("integer", False), "when": ("date", False), "name": ("string", False), "notes": ("text", False),
        "yes": ("boolean", False), "grid": ("group", False)}
    option = items["single"]["answerOption"][2]
    assert option["valueCoding"] == {"system": f"{BASE}/demo/options", "code": "2", "display": "2",
                                     "_display": option["valueCoding"]["_display"]}
    assert option["extension"] == [{"url": ORDINAL, "valueDecimal": 2}]
    assert items["single"]["item"][0]["type"] == "display"  # help text
    assert [r["linkId"] for r in items["grid"]["item"]] == ["grid.r1", "grid.r2"]
    # a comparison on a choice's score becomes the codes it allows
    assert items["likert"]["enableBehavior"] == "any"
    assert [(w["operator"], w["answerCoding"]["code"]) for w in items["likert"]["enableWhen"]] == [("=", "2"),
                                                                                                  ("=", "3")]
    assert items["name"]["maxLength"] == 5
    # a nested any/all cannot be said in enableWhen: it is kept in our extension only
    assert "enableWhen" not in resource["item"][1]


def test_enable_when_for_numbers_and_sex():
    findrisc = to_fhir_questionnaire(pack_definition("findrisc"), url_base=BASE)
    waist_m = next(i for i in findrisc["item"][0]["item"] if i["linkId"] == "waist_m")
    assert waist_m["enableWhen"] == [{"question": "sex", "operator": "=",
                                      "answerCoding": {"system": f"{BASE}/findrisc/options", "code": "M"}}]
    ipaq = to_fhir_questionnaire(pack_definition("ipaq_short"), url_base=BASE)
    minutes = next(i for i in ipaq["item"][0]["item"] if i["linkId"] == "vig_minutes")
    assert minutes["enableWhen"] == [{"question": "vig_days", "operator": ">", "answerInteger": 0}]


FOREIGN = {
    "resourceType": "Questionnaire",
    "id": "f201",
    "url": "http://hospital.example/Questionnaire/lifelines",
    "status": "active",
    "title": "Lifelines",
    "item": [
        {"linkId": "1", "type": "group", "text": "General questions", "item": [
            {"linkId": "1.1", "type": "boolean", "text": "Do you have allergies?", "required": True},
            {"linkId": "1.2", "type": "string", "text": "Which ones?",
             "enableWhen": [{"question": "1.1", "operator": "=", "answerBoolean": True}]},
            {"linkId": "1.3", "type": "choice", "text": "Sex",
             "answerOption": [{"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender",
                                               "code": "female", "display": "Female"}},
                              {"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender",
                                               "code": "male", "display": "Male"}}]},
        ]},
        {"linkId": "age", "type": "integer", "text": "Age in years"},
    ],
}


def test_a_foreign_questionnaire_imports_without_scores():
    d = from_fhir_questionnaire(copy.deepcopy(FOREIGN))
    assert d["key"] == "f201" and d["scores"] == [] and d["flags"] == []
    assert [s["key"] for s in d["sections"]] == ["section_1", "part2"]
    first = d["sections"][0]["questions"]
    assert [(q["key"], q["type"], q.get("link_id")) for q in first] == [
        ("q_1_1", "yesno", "1.1"), ("q_1_2", "text", "1.2"), ("q_1_3", "single", "1.3")]
    assert first[1]["show_if"] == {"question": "q_1_1", "op": "eq", "value": True}
    assert first[2]["options"][0] == {"code": "female", "label": {"zh": "Female", "en": "Female"}}
    assert d["sections"][1]["questions"][0] == {"key": "age", "type": "number", "text": t("Age in years"),
                                                "required": False, "integer": True}
    # and a response to it keeps the foreign linkIds
    response = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [
        {"linkId": "1", "item": [{"linkId": "1.1", "answer": [{"valueBoolean": True}]},
                                 {"linkId": "1.2", "answer": [{"valueString": "pollen"}]}]},
        {"linkId": "age", "answer": [{"valueInteger": 61}]}]}
    assert answers_from_response(d, response) == {"q_1_1": True, "q_1_2": "pollen", "age": 61}


@pytest.mark.parametrize(("change", "message"), [
    (lambda q: q["item"][1].update(type="attachment"), "item 'age': FHIR item type 'attachment' is not supported"),
    (lambda q: q["item"][0]["item"][2].update(answerOption=None, answerValueSet="http://x/vs"),
     "item '1.3': answers from a value set are not supported"),
    (lambda q: q["item"][0]["item"][1]["enableWhen"][0].update(question="9.9"), "enableWhen names '9.9'"),
    (lambda q: q["item"][0]["item"].append({"linkId": "1.4", "type": "group", "item": []}),
     "item '1.4': groups nested inside a section are not supported"),
    (lambda q: q.update(resourceType="Patient"), "not a FHIR Questionnaire"),
    (lambda q: q["item"][0]["item"][0].update(required="sometimes"), "not a valid FHIR R4 Questionnaire"),
])
def test_unsupported_foreign_content_names_the_item(change, message):
    resource = copy.deepcopy(FOREIGN)
    change(resource)
    with pytest.raises(ValueError, match=None) as caught:
        from_fhir_questionnaire(resource)
    assert message in str(caught.value)


def test_a_foreign_questionnaire_with_our_extension_keeps_its_scores():
    resource = to_fhir_questionnaire(pack_definition("phq9"), url_base=BASE)
    assert any(e["url"] == EXT_DEFINITION for e in resource["extension"])
    resource["extension"] = []
    d = from_fhir_questionnaire(over_the_wire(resource))
    assert d["scores"] == [] and d["kind"] == "survey"
    assert len(d["sections"][0]["questions"]) == 9


def test_response_round_trip_and_validity():
    d = demo()
    answers = {"single": "3", "likert": "2", "multi": ["0", "3"], "num": 30, "when": "2026-02-28", "name": "AB",
               "notes": "fine", "yes": True, "grid": {"r1": "y", "r2": "x"}, "last": "1"}
    resource = response_to_fhir(d, answers, questionnaire_url=f"{BASE}/demo|1", subject_ref="Patient/42",
                                authored="2026-12-01T09:30:00+08:00")
    QuestionnaireResponse.model_validate(resource)
    assert resource["subject"] == {"reference": "Patient/42"} and resource["status"] == "completed"
    assert answers_from_response(d, over_the_wire(resource)) == clean_answers(d, answers)
    phq = pack_definition("phq9")
    phq_answers = {f"q{i}": str(i % 4) for i in range(1, 10)}
    phq_resource = response_to_fhir(phq, phq_answers, questionnaire_url=f"{BASE}/phq9", subject_ref="Patient/1",
                                    authored="2026-12-01")
    back = answers_from_response(phq, over_the_wire(phq_resource))
    assert back == phq_answers
    assert score(phq, back).scores[0].value == sum(i % 4 for i in range(1, 10))


def test_a_response_in_the_specifications_shape():
    """Shaped like the QuestionnaireResponse examples of the FHIR R4 specification: id, meta, nested groups,
    codings with system and display, and an answer carrying nested items."""
    d = demo()
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": "3141",
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/QuestionnaireResponse"]},
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">demo</div>"},
        "questionnaire": f"{BASE}/demo",
        "status": "completed",
        "subject": {"reference": "Patient/example", "display": "Peter James Chalmers"},
        "authored": "2013-02-19T14:15:00-05:00",
        "author": {"reference": "Practitioner/example"},
        "item": [{"linkId": "main", "text": "Main", "item": [
            {"linkId": "single", "text": "single", "answer": [
                {"valueCoding": {"system": f"{BASE}/demo/options", "code": "2", "display": "2"},
                 "item": [{"linkId": "likert", "answer": [{"valueCoding": {"code": "1"}}]}]}]},
            {"linkId": "multi", "answer": [{"valueCoding": {"code": "0"}}, {"valueCoding": {"code": "1"}}]},
            {"linkId": "num", "answer": [{"valueDecimal": 42.0}]},
            {"linkId": "when", "answer": [{"valueDate": "2013-02-19"}]},
            {"linkId": "yes", "answer": [{"valueBoolean": False}]},
            {"linkId": "grid", "item": [{"linkId": "grid.r1", "answer": [{"valueCoding": {"code": "x"}}]}]},
        ]}],
    }
    QuestionnaireResponse.model_validate(response)
    assert answers_from_response(d, response) == {"single": "2", "likert": "1", "multi": ["0", "1"], "num": 42,
                                                  "when": "2013-02-19", "yes": False, "grid": {"r1": "x"}}


@pytest.mark.parametrize(("item", "message"), [
    ({"linkId": "nope", "answer": [{"valueString": "x"}]}, "linkId 'nope' is not a question of 'demo'"),
    ({"linkId": "yes", "answer": [{"valueString": "yes"}]}, "linkId 'yes': expected valueBoolean, got valueString"),
    ({"linkId": "num", "answer": [{"valueString": "12"}]}, "linkId 'num': expected valueInteger or valueDecimal"),
    ({"linkId": "single", "answer": [{"valueCoding": {"code": "7"}}]}, "linkId 'single': '7' is not one of"),
    ({"linkId": "single", "answer": [{"valueBoolean": True}]}, "linkId 'single': expected a coded answer"),
    ({"linkId": "grid.r3", "answer": [{"valueCoding": {"code": "x"}}]}, "linkId 'grid.r3' is not a question"),
    ({"linkId": "single", "answer": [{"valueCoding": {"code": "1"}}, {"valueCoding": {"code": "2"}}]},
     "linkId 'single': one answer expected, got 2"),
])
def test_bad_response_items_name_the_link_id(item, message):
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "item": [{"linkId": "main", "item": [item]}]}
    with pytest.raises(ValueError) as caught:
        answers_from_response(demo(), response)
    assert message in str(caught.value)


def test_a_definition_with_an_unknown_extension_shape_is_rejected_clearly():
    resource = to_fhir_questionnaire(defn(choice("a")), url_base=BASE)
    resource["item"][0]["item"][0]["type"] = "boolean"  # our extension says single
    with pytest.raises(ValueError, match="item 'a': type 'boolean' does not match 'single'"):
        from_fhir_questionnaire(resource)
