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
"""
import json
import re
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from app.questionnaires.definition_check import check_definition
from app.questionnaires.schema import CHOICE_TYPES, COMPARISONS, KEY_RE, iter_questions, option_score, questions_by_key
from app.questionnaires.validation import clean_answers

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


def _link(question: dict) -> str:
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


def _answer_value(question: dict, row: str | None, value: Any, system: str) -> dict:
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
    return {f"answer{k[5:]}": v for k, v in _answer_value(question, row or None, value, system).items()}


def _leaf_entries(defn: dict, cond: dict, system: str) -> list[dict] | None:
    """The enableWhen entries for one condition (several mean "any of them"), or None when FHIR cannot say it."""
    ref, op = cond["question"], cond["op"]
    target: Any = cond.get("value")
    qkey, _, row = ref.partition(".")
    question = questions_by_key(defn)[qkey]
    link = f"{_link(question)}.{row}" if row else _link(question)
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
    item: dict = {"linkId": _link(question)}
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
        help_item: dict = {"linkId": f"{_link(question)}.help", "type": "display"}
        _text(help_item, "text", question["help"])
        help_item["extension"] = [{"url": ITEM_CONTROL, "valueCodeableConcept": {
            "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help"}]}}]
        children.append(help_item)
    if qtype == "matrix":
        for row in question["rows"]:
            row_item: dict = {"linkId": f"{_link(question)}.{row['key']}", "type": "choice"}
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
        group: dict = {"linkId": _link(section), "type": "group"}
        _text(group, "text", section["title"])
        if "show_if" in section:
            group["extension"] = [{"url": EXT_ITEM, "valueString": json.dumps(
                {"type": "section", "show_if": section["show_if"]}, ensure_ascii=False, sort_keys=True)}]
        group.update(_enable_when(defn, section.get("show_if"), system))
        group["item"] = [_question_item(defn, q, system) for q in section["questions"]]
        sections.append(group)
    out["item"] = sections
    return out


# --- import ---------------------------------------------------------------------------------------------------------


def _quoted(value: Any) -> str:
    """A linkId, type or operator as the import's messages quote it (untranslated: it is the file's own)."""
    return repr(value)


def _ext(element: dict, url: str) -> dict | None:
    return next((e for e in element.get("extension") or [] if e.get("url") == url), None)


def _ext_json(element: dict, url: str) -> dict:
    ext = _ext(element, url)
    if ext is None:
        return {}
    try:
        value = json.loads(ext.get("valueString") or "{}")
    except ValueError as exc:
        if "linkId" not in element:
            raise ValueError(_("the Questionnaire: our extension is not valid JSON")) from exc
        raise ValueError(_("item %(link)s: our extension is not valid JSON", link=_quoted(element["linkId"]))) from exc
    return value if isinstance(value, dict) else {}


def _bilingual(element: dict, name: str) -> dict | None:
    zh = element.get(name)
    if zh is None:
        return None
    en = zh
    for ext in (element.get(f"_{name}") or {}).get("extension") or []:
        if ext.get("url") != TRANSLATION:
            continue
        parts = {e.get("url"): e for e in ext.get("extension") or []}
        lang = (parts.get("lang") or {}).get("valueCode", "")
        if lang.lower().startswith("en") and (parts.get("content") or {}).get("valueString"):
            en = parts["content"]["valueString"]
    return {"zh": str(zh), "en": str(en)}


def _plain_number(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return int(value) if value == int(value) else float(value)
    return value


def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"{fallback}_{slug}".strip("_")
    return slug[:40]


def _options_back(item: dict) -> list[dict]:
    link = item.get("linkId")
    if item.get("answerValueSet") and not item.get("answerOption"):
        raise ValueError(_("item %(link)s: answers from a value set are not supported; list them as answerOption",
                           link=_quoted(link)))
    options = []
    for entry in item.get("answerOption") or []:
        if "valueCoding" in entry:
            coding = entry["valueCoding"]
            code = coding.get("code")
            label = _bilingual(coding, "display") or {"zh": str(code), "en": str(code)}
        elif "valueString" in entry:
            code = entry["valueString"]
            label = {"zh": code, "en": code}
        elif "valueInteger" in entry:
            code = str(entry["valueInteger"])
            label = {"zh": code, "en": code}
        else:
            raise ValueError(_("item %(link)s: only coded, text or whole-number options are supported",
                               link=_quoted(link)))
        if not code:
            raise ValueError(_("item %(link)s: an option has no code", link=_quoted(link)))
        option: dict = {"code": str(code), "label": label}
        weight = _ext(entry, ORDINAL) or _ext(entry, ITEM_WEIGHT) or _ext(entry.get("valueCoding") or {}, ORDINAL)
        if weight is not None:
            option["score"] = _plain_number(weight.get("valueDecimal", weight.get("valueInteger")))
        options.append(option)
    if not options:
        raise ValueError(_("item %(link)s: a choice question needs answerOption", link=_quoted(link)))
    return options


def _condition_back(item: dict, links: dict[str, str], types: dict[str, str]) -> dict | None:
    entries = item.get("enableWhen") or []
    if not entries:
        return None
    leaves = []
    for entry in entries:
        link = entry.get("question")
        if link not in links:
            raise ValueError(_("item %(link)s: enableWhen names %(other)s, which is not a question here",
                               link=_quoted(item.get("linkId")), other=_quoted(link)))
        ref = links[link]
        operator = entry.get("operator")
        value_key = next((k for k in entry if k.startswith("answer")), None)
        value = _plain_number(entry.get(value_key)) if value_key else None
        if value_key == "answerCoding":
            value = (entry[value_key] or {}).get("code")
        if operator == "exists":
            leaves.append({"question": ref, "op": "answered", "value": value is not False})
            continue
        if operator not in OPS_BACK or value_key not in (
            "answerCoding", "answerBoolean", "answerDecimal", "answerInteger", "answerDate", "answerString"
        ):
            raise ValueError(_("item %(link)s: enableWhen %(operator)s with %(value)s is not supported",
                               link=_quoted(item.get("linkId")), operator=_quoted(operator), value=value_key))
        op = OPS_BACK[operator]
        if value_key == "answerCoding" and op in COMPARISONS:
            raise ValueError(_("item %(link)s: enableWhen compares a coded answer with %(operator)s",
                               link=_quoted(item.get("linkId")), operator=_quoted(operator)))
        if types.get(ref) == "yesno" and value_key != "answerBoolean":
            raise ValueError(_("item %(link)s: enableWhen on a yes/no question needs answerBoolean",
                               link=_quoted(item.get("linkId"))))
        leaves.append({"question": ref, "op": op, "value": value})
    if len(leaves) == 1:
        return leaves[0]
    return {"any": leaves} if item.get("enableBehavior") == "any" else {"all": leaves}


def _question_back(item: dict, links: dict[str, str], types: dict[str, str]) -> dict:
    link = item["linkId"]
    extras = _ext_json(item, EXT_ITEM)
    fhir_type = item.get("type")
    key = links[link]
    question: dict = {"key": key}
    if key != link:
        question["link_id"] = link
    qtype = extras.get("type")
    if qtype is None:
        qtype = {"choice": "single", "open-choice": "single", "boolean": "yesno", "integer": "number",
                 "decimal": "number", "date": "date", "string": "text", "text": "textarea"}.get(fhir_type or "")
        if fhir_type == "choice" and item.get("repeats"):
            qtype = "multiple"
        if qtype is None:
            raise ValueError(_("item %(link)s: FHIR item type %(type)s is not supported here", link=_quoted(link),
                               type=_quoted(fhir_type)))
    elif FHIR_TYPES.get(qtype, "integer/decimal") not in (fhir_type, "integer/decimal"):
        raise ValueError(_("item %(link)s: type %(type)s does not match %(ours)s", link=_quoted(link),
                           type=_quoted(fhir_type), ours=_quoted(qtype)))
    question["type"] = qtype
    question["text"] = _bilingual(item, "text") or {"zh": link, "en": link}
    children = item.get("item") or []
    rows = []
    for child in children:
        control = _ext(child, ITEM_CONTROL)
        codes = [c.get("code") for c in ((control or {}).get("valueCodeableConcept") or {}).get("coding") or []]
        if child.get("type") == "display" and "help" in codes:
            question["help"] = _bilingual(child, "text")
        elif qtype == "matrix" and child.get("type") == "choice":
            rows.append(child)
        else:
            raise ValueError(_("item %(link)s: items nested under a question are not supported",
                               link=_quoted(child.get("linkId"))))
    if qtype != "matrix":
        question["required"] = bool(item.get("required", False))
    if qtype in CHOICE_TYPES:
        question["options"] = _options_back(item)
    if qtype == "matrix":
        if not rows:
            raise ValueError(_("item %(link)s: a matrix needs rows", link=_quoted(link)))
        question["required"] = bool(rows[0].get("required", False))
        question["options"] = _options_back(rows[0])
        question["rows"] = []
        for row in rows:
            row_link = str(row.get("linkId"))
            row_key = row_link[len(link) + 1:] if row_link.startswith(f"{link}.") else row_link
            question["rows"].append({"key": row_key, "text": _bilingual(row, "text") or {"zh": row_key, "en": row_key}})
    if qtype == "number":
        unit = _ext(item, UNIT)
        if unit is not None:
            coding = unit.get("valueCoding") or {}
            question["unit"] = coding.get("display") or coding.get("code")
        for name, url in (("min", MIN_VALUE), ("max", MAX_VALUE)):
            ext = _ext(item, url)
            if ext is not None:
                question[name] = _plain_number(ext.get("valueInteger", ext.get("valueDecimal")))
        if fhir_type == "integer":
            question["integer"] = True
    if qtype in ("text", "textarea"):
        if item.get("maxLength"):
            question["max_length"] = item["maxLength"]
        regex = _ext(item, REGEX)
        if regex is not None:
            question["pattern"] = regex.get("valueString")
    for name in ITEM_EXTRAS:
        if name in extras and name != "integer":
            question[name] = extras[name]
    if "integer" in extras:
        question["integer"] = extras["integer"]
    if "show_if" not in extras:
        cond = _condition_back(item, links, types)
        if cond is not None:
            question["show_if"] = cond
    return question


def _validate_model(data: dict, resource: str) -> None:
    from pydantic import ValidationError

    if resource == "Questionnaire":
        from fhir.resources.R4B.questionnaire import Questionnaire as Model
    else:
        from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as Model  # type: ignore[assignment]
    try:
        Model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ValueError(_("not a valid FHIR R4 %(resource)s: %(where)s: %(problem)s", resource=resource, where=where,
                           problem=first.get("msg"))) from None


def from_fhir_questionnaire(data: dict) -> dict:
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise ValueError(_("this is not a FHIR Questionnaire"))
    _validate_model(data, "Questionnaire")
    extra = _ext_json(data, EXT_DEFINITION)
    name = data.get("name")
    title = _bilingual(data, "title") or {"zh": str(name or "问卷"), "en": str(name or "Questionnaire")}
    key = extra.get("key") or _slug(str(data.get("name") or data.get("id") or title["en"]), "questionnaire")
    version = str(data.get("version") or "1")
    # group top-level questions outside a group into sections of their own
    top: list[dict] = []
    loose: list[dict] = []
    for item in data.get("item") or []:
        is_section = item.get("type") == "group" and _ext_json(item, EXT_ITEM).get("type") != "matrix"
        if is_section:
            if loose:
                top.append({"linkId": f"part{len(top) + 1}", "type": "group", "item": loose, "_implicit": True})
                loose = []
            top.append(item)
        else:
            loose.append(item)
    if loose:
        top.append({"linkId": f"part{len(top) + 1}", "type": "group", "item": loose, "_implicit": True})
    # linkId -> key (and matrix row refs) before reading any condition
    links: dict[str, str] = {}
    types: dict[str, str] = {}
    used: set[str] = set()
    for section in top:
        for item in section.get("item") or []:
            link = item.get("linkId")
            if not link:
                raise ValueError(_("an item has no linkId"))
            if item.get("type") == "display":
                raise ValueError(_("item %(link)s: display items outside a question are not supported",
                                   link=_quoted(link)))
            if item.get("type") == "group" and _ext_json(item, EXT_ITEM).get("type") != "matrix":
                raise ValueError(_("item %(link)s: groups nested inside a section are not supported",
                                   link=_quoted(link)))
            key_for = link if KEY_RE.match(link) else _slug(link, "q")
            while key_for in used:
                key_for = f"{key_for}_x"[:40]
            used.add(key_for)
            links[link] = key_for
            types[key_for] = _ext_json(item, EXT_ITEM).get("type") or item.get("type", "")
            for child in item.get("item") or []:
                child_link = str(child.get("linkId"))
                if child.get("type") == "choice" and child_link.startswith(f"{link}."):
                    links[child_link] = f"{key_for}.{child_link[len(link) + 1:]}"
    sections = []
    for section in top:
        link = section["linkId"]
        extras = _ext_json(section, EXT_ITEM)
        skey = link if KEY_RE.match(link) else _slug(link, "section")
        sdef: dict = {
            "key": skey,
            "title": _bilingual(section, "text") or {"zh": "问题", "en": "Questions"},
            "show_if": extras["show_if"] if "show_if" in extras else _condition_back(section, links, types),
            "questions": [_question_back(item, links, types) for item in section.get("item") or []],
        }
        if skey != link and not section.get("_implicit"):
            sdef["link_id"] = link
        sections.append(sdef)
    defn: dict = {"key": key, "version": int(version) if version.isdigit() else 1,
                  "kind": extra.get("kind", "survey"), "title": title}
    description = _bilingual(data, "description")
    if description:
        defn["description"] = description
    defn["source"] = extra.get("source") or f"Imported FHIR Questionnaire {data.get('url') or key}"
    defn["sections"] = sections
    defn["scores"] = extra.get("scores") or []
    defn["flags"] = extra.get("flags") or []
    problems = check_definition(defn)
    if problems:
        raise ValueError(_("the Questionnaire cannot be used as it is: %(problems)s", problems="; ".join(problems)))
    return defn


# --- responses ------------------------------------------------------------------------------------------------------


def _link_map(defn: dict) -> tuple[dict[str, tuple[dict, str | None]], set[str]]:
    questions: dict[str, tuple[dict, str | None]] = {}
    groups = {_link(s) for s in defn["sections"]}
    for _section, question in iter_questions(defn):
        if question["type"] == "matrix":
            groups.add(_link(question))
            for row in question["rows"]:
                questions[f"{_link(question)}.{row['key']}"] = (question, row["key"])
        else:
            questions[_link(question)] = (question, None)
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
        value = _plain_number(value)
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
            item: dict = {"linkId": _link(question), "text": question["text"]["zh"]}
            if question["type"] == "matrix":
                item["item"] = [
                    {"linkId": f"{_link(question)}.{row['key']}", "text": row["text"]["zh"],
                     "answer": [_coded(question, value[row["key"]], system)]}
                    for row in question["rows"] if row["key"] in value
                ]
            elif question["type"] == "multiple":
                item["answer"] = [_coded(question, code, system) for code in value]
            elif question["type"] in CHOICE_TYPES:
                item["answer"] = [_coded(question, value, system)]
            else:
                item["answer"] = [_answer_value(question, None, value, system)]
            items.append(item)
        if items:
            sections.append({"linkId": _link(section), "text": section["title"]["zh"], "item": items})
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
