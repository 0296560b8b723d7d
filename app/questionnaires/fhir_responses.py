"""FHIR R4 QuestionnaireResponse, to and from our answers (the mapping is fhir.py's)."""
from typing import Any

from app.questionnaires.fhir import answer_value, link_of, plain_number
from app.questionnaires.schema import CHOICE_TYPES, iter_questions
from app.questionnaires.validation import clean_answers


def _link_map(defn: dict) -> tuple[dict[str, tuple[dict, str | None]], set[str]]:
    questions: dict[str, tuple[dict, str | None]] = {}
    groups = {link_of(s) for s in defn["sections"]}
    for _section, question in iter_questions(defn):
        if question["type"] == "matrix":
            groups.add(link_of(question))
            for row in question["rows"]:
                questions[f"{link_of(question)}.{row['key']}"] = (question, row["key"])
        else:
            questions[link_of(question)] = (question, None)
    return questions, groups


def _answer_back(link: str, question: dict, row: str | None, answer: dict) -> Any:
    qtype = "single" if row else question["type"]
    if qtype in CHOICE_TYPES:
        if "valueCoding" in answer:
            code = (answer["valueCoding"] or {}).get("code")
        elif "valueString" in answer:
            code = answer["valueString"]
        else:
            raise ValueError(f"linkId {link!r}: expected a coded answer")
        if code not in {o["code"] for o in question["options"]}:
            raise ValueError(f"linkId {link!r}: {code!r} is not one of its options")
        return code
    expected = {"yesno": ("valueBoolean",), "number": ("valueInteger", "valueDecimal"), "date": ("valueDate",),
                "text": ("valueString",), "textarea": ("valueString",)}[qtype]
    found = [k for k in answer if k.startswith("value")]
    if len(found) != 1 or found[0] not in expected:
        raise ValueError(f"linkId {link!r}: expected {' or '.join(expected)}, got {', '.join(found) or 'nothing'}")
    value = answer[found[0]]
    if qtype == "number":
        value = plain_number(value)
    if qtype == "date":
        value = str(value)
    return value


def answers_from_response(defn: dict, data: dict) -> dict:
    """A FHIR R4 QuestionnaireResponse as our answers dict (not yet validated against the definition's rules)."""
    if not isinstance(data, dict) or data.get("resourceType") != "QuestionnaireResponse":
        raise ValueError("this is not a FHIR QuestionnaireResponse")
    questions, groups = _link_map(defn)
    answers: dict = {}

    def walk(items: list) -> None:
        for item in items or []:
            link = item.get("linkId")
            if link in groups:
                walk(item.get("item") or [])
                continue
            if link not in questions:
                raise ValueError(f"linkId {link!r} is not a question of {defn['key']!r}")
            question, row = questions[link]
            values = []
            for answer in item.get("answer") or []:
                values.append(_answer_back(link, question, row, answer))
                walk(answer.get("item") or [])
            walk(item.get("item") or [])
            if not values:
                continue
            if row is not None:
                if len(values) > 1:
                    raise ValueError(f"linkId {link!r}: one answer expected")
                answers.setdefault(question["key"], {})[row] = values[0]
            elif question["type"] == "multiple":
                answers[question["key"]] = values
            elif len(values) > 1:
                raise ValueError(f"linkId {link!r}: one answer expected, got {len(values)}")
            else:
                answers[question["key"]] = values[0]

    walk(data.get("item") or [])
    return answers


def response_to_fhir(defn: dict, answers: dict, *, questionnaire_url: str, subject_ref: str, authored: str) -> dict:
    cleaned = clean_answers(defn, answers)
    system = f"{questionnaire_url.split('|')[0].rstrip('/')}/options"
    sections = []
    for section in defn["sections"]:
        items = []
        for question in section["questions"]:
            value = cleaned.get(question["key"])
            if value is None:
                continue
            item: dict = {"linkId": link_of(question), "text": question["text"]["zh"]}
            if question["type"] == "matrix":
                item["item"] = [
                    {"linkId": f"{link_of(question)}.{row['key']}", "text": row["text"]["zh"],
                     "answer": [_coded(question, value[row["key"]], system)]}
                    for row in question["rows"] if row["key"] in value
                ]
            elif question["type"] == "multiple":
                item["answer"] = [_coded(question, code, system) for code in value]
            elif question["type"] in CHOICE_TYPES:
                item["answer"] = [_coded(question, value, system)]
            else:
                item["answer"] = [answer_value(question, None, value, system)]
            items.append(item)
        if items:
            sections.append({"linkId": link_of(section), "text": section["title"]["zh"], "item": items})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire_url,
        "status": "completed",
        "subject": {"reference": subject_ref},
        "authored": authored,
        "item": sections,
    }


def _coded(question: dict, code: str, system: str) -> dict:
    label = next((o["label"]["zh"] for o in question["options"] if o["code"] == code), code)
    return {"valueCoding": {"system": system, "code": code, "display": label}}
