"""FHIR R4 Questionnaire and QuestionnaireResponse, to and from our definition format.

Mapping: a section is a "group" item; single and likert are "choice", multiple is "choice" with repeats, number is
"integer" or "decimal", date "date", text "string", textarea "text", yesno "boolean", and a matrix is a "group" whose
rows are "choice" items with the linkId "matrix_key.row_key". Options are answerOption valueCoding (system: the
questionnaire's URL + "/options", code, display in Chinese) with their score in the ordinalValue extension; English
texts ride in the standard translation extension. show_if becomes enableWhen/enableBehavior where FHIR can say it
(comparisons on a choice's score become the list of codes they allow). What plain FHIR cannot carry (our type where
FHIR's is ambiguous, the exact show_if, pattern messages, health-history fields, the scores and flags) is kept in
two extensions of our own, so an export imports back to the same definition; a foreign Questionnaire without them
imports with no scores. A foreign linkId that is not a valid key is kept in the question's (or section's) "link_id",
which export and responses use.

This module holds the mapping's vocabulary and the export of a Questionnaire; fhir_import.py reads one back and
fhir_responses.py converts QuestionnaireResponses both ways.
"""
import json
import re
from decimal import Decimal
from typing import Any

from app.questionnaires.schema import CHOICE_TYPES, COMPARISONS, option_score, questions_by_key

EXT_DEFINITION = "urn:careloop:fhir:StructureDefinition:questionnaire-definition"
EXT_ITEM = "urn:careloop:fhir:StructureDefinition:questionnaire-item"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
REGEX = "http://hl7.org/fhir/StructureDefinition/regex"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"

FHIR_TYPES = {"single": "choice", "likert": "choice", "multiple": "choice", "date": "date", "text": "string",
              "textarea": "text", "yesno": "boolean", "matrix": "group"}
OPERATORS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
OPS_BACK = {v: k for k, v in OPERATORS.items()}
# Question fields plain FHIR does not carry; they ride in EXT_ITEM.
ITEM_EXTRAS = ("show_if", "pattern_message", "history_field", "integer")


# --- export ----------------------------------------------------------------------------------------------------------


def _translated(value: dict) -> dict:
    return {"extension": [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": "en"}, {"url": "content", "valueString": value["en"]}]}]}


def _text(target: dict, name: str, value: dict) -> None:
    target[name] = value["zh"]
    target[f"_{name}"] = _translated(value)


def link_of(question: dict) -> str:
    return str(question.get("link_id") or question["key"])


def _number_ext(url: str, value: float, integer: bool) -> dict:
    if integer and float(value).is_integer():
        return {"url": url, "valueInteger": int(value)}
    return {"url": url, "valueDecimal": value}


def _options(question: dict, system: str) -> list[dict]:
    out = []
    for option in question.get("options") or []:
        coding: dict = {"system": system, "code": option["code"]}
        _text(coding, "display", option["label"])
        entry: dict = {"valueCoding": coding}
        if option.get("score") is not None:
            entry["extension"] = [{"url": ORDINAL, "valueDecimal": option["score"]}]
        out.append(entry)
    return out


def answer_value(question: dict, row: str | None, value: Any, system: str) -> dict:
    qtype = "single" if row else question["type"]
    if qtype in CHOICE_TYPES:
        return {"valueCoding": {"system": system, "code": value}}
    if qtype == "yesno":
        return {"valueBoolean": value}
    if qtype == "number":
        if question.get("integer") and isinstance(value, int):
            return {"valueInteger": value}
        return {"valueDecimal": value}
    if qtype == "date":
        return {"valueDate": value}
    return {"valueString": value}


def _when_value(question: dict, row: str, value: Any, system: str) -> dict:
    """enableWhen's answer[x] for a value: answerCoding, answerBoolean, answerInteger…"""
    return {f"answer{k[5:]}": v for k, v in answer_value(question, row or None, value, system).items()}


def _leaf_entries(defn: dict, cond: dict, system: str) -> list[dict] | None:
    """The enableWhen entries for one condition (several mean "any of them"), or None when FHIR cannot say it."""
    ref, op = cond["question"], cond["op"]
    target: Any = cond.get("value")
    qkey, _, row = ref.partition(".")
    question = questions_by_key(defn)[qkey]
    link = f"{link_of(question)}.{row}" if row else link_of(question)
    if op == "answered":
        return [{"question": link, "operator": "exists", "answerBoolean": target is not False}]
    is_choice = bool(row) or question["type"] in CHOICE_TYPES
    if is_choice and op in COMPARISONS:
        codes = []
        for option in question.get("options") or []:
            score = option_score(question, option["code"])
            if score is not None and {"gt": score > target, "gte": score >= target, "lt": score < target,
                                      "lte": score <= target}[op]:
                codes.append(option["code"])
        if not codes:
            return None
        op, target = "in", codes
    if op == "in":
        return [{"question": link, "operator": "=", **_when_value(question, row, v, system)} for v in target]
    if op not in OPERATORS or (question["type"] == "multiple" and op == "ne"):
        return None
    return [{"question": link, "operator": OPERATORS[op], **_when_value(question, row, target, system)}]


def _enable_when(defn: dict, cond: dict | None, system: str) -> dict:
    if cond is None:
        return {}
    if "all" in cond:
        entries = []
        for sub in cond["all"]:
            leaf = None if ("all" in sub or "any" in sub) else _leaf_entries(defn, sub, system)
            if leaf is None or len(leaf) != 1:
                return {}
            entries.extend(leaf)
        return {"enableWhen": entries, "enableBehavior": "all"} if len(entries) > 1 else {"enableWhen": entries}
    if "any" in cond:
        entries = []
        for sub in cond["any"]:
            leaf = None if ("all" in sub or "any" in sub) else _leaf_entries(defn, sub, system)
            if leaf is None:
                return {}
            entries.extend(leaf)
        return {"enableWhen": entries, "enableBehavior": "any"} if len(entries) > 1 else {"enableWhen": entries}
    leaf = _leaf_entries(defn, cond, system)
    if leaf is None:
        return {}
    return {"enableWhen": leaf, "enableBehavior": "any"} if len(leaf) > 1 else {"enableWhen": leaf}


def _question_item(defn: dict, question: dict, system: str) -> dict:
    qtype = question["type"]
    item: dict = {"linkId": link_of(question)}
    _text(item, "text", question["text"])
    if qtype == "number":
        item["type"] = "integer" if question.get("integer") else "decimal"
    else:
        item["type"] = FHIR_TYPES[qtype]
    extras = {"type": qtype, **{k: question[k] for k in ITEM_EXTRAS if k in question}}
    extensions: list[dict] = [{"url": EXT_ITEM, "valueString": json.dumps(extras, ensure_ascii=False, sort_keys=True)}]
    if qtype == "number":
        integer = bool(question.get("integer"))
        if question.get("unit"):
            extensions.append({"url": UNIT, "valueCoding": {"display": question["unit"]}})
        if question.get("min") is not None:
            extensions.append(_number_ext(MIN_VALUE, question["min"], integer))
        if question.get("max") is not None:
            extensions.append(_number_ext(MAX_VALUE, question["max"], integer))
    if question.get("pattern"):
        extensions.append({"url": REGEX, "valueString": question["pattern"]})
    item["extension"] = extensions
    item.update(_enable_when(defn, question.get("show_if"), system))
    if qtype != "matrix":
        item["required"] = bool(question.get("required", False))
    if qtype == "multiple":
        item["repeats"] = True
    if qtype in ("text", "textarea") and question.get("max_length"):
        item["maxLength"] = question["max_length"]
    if qtype in CHOICE_TYPES:
        item["answerOption"] = _options(question, system)
    children: list[dict] = []
    if question.get("help"):
        help_item: dict = {"linkId": f"{link_of(question)}.help", "type": "display"}
        _text(help_item, "text", question["help"])
        help_item["extension"] = [{"url": ITEM_CONTROL, "valueCodeableConcept": {
            "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help"}]}}]
        children.append(help_item)
    if qtype == "matrix":
        for row in question["rows"]:
            row_item: dict = {"linkId": f"{link_of(question)}.{row['key']}", "type": "choice"}
            _text(row_item, "text", row["text"])
            row_item["required"] = bool(question.get("required", False))
            row_item["answerOption"] = _options(question, system)
            children.append(row_item)
    if children:
        item["item"] = children
    return item


def to_fhir_questionnaire(defn: dict, *, url_base: str) -> dict:
    url = f"{url_base.rstrip('/')}/{defn['key']}"
    system = f"{url}/options"
    extra = {k: defn[k] for k in ("key", "kind", "source", "scores", "flags") if k in defn}
    out: dict = {
        "resourceType": "Questionnaire",
        "extension": [{"url": EXT_DEFINITION, "valueString": json.dumps(extra, ensure_ascii=False, sort_keys=True)}],
        "url": url,
        "version": str(defn["version"]),
        "name": "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", defn["key"]) if part),
        "status": "active",
        "language": "zh-CN",
    }
    _text(out, "title", defn["title"])
    if defn.get("description"):
        _text(out, "description", defn["description"])
    sections = []
    for section in defn["sections"]:
        group: dict = {"linkId": link_of(section), "type": "group"}
        _text(group, "text", section["title"])
        if "show_if" in section:
            group["extension"] = [{"url": EXT_ITEM, "valueString": json.dumps(
                {"type": "section", "show_if": section["show_if"]}, ensure_ascii=False, sort_keys=True)}]
        group.update(_enable_when(defn, section.get("show_if"), system))
        group["item"] = [_question_item(defn, q, system) for q in section["questions"]]
        sections.append(group)
    out["item"] = sections
    return out


def plain_number(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return int(value) if value == int(value) else float(value)
    return value
