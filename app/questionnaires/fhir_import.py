"""FHIR R4 Questionnaire import: a Questionnaire (ours, exported by fhir.py, or a foreign one) as a definition.

Every refusal names the item it concerns by its linkId, in the reader's language."""
import json
import re
from typing import Any

from flask_babel import gettext as _

from app.questionnaires.definition_check import check_definition
from app.questionnaires.fhir import (
    EXT_DEFINITION,
    EXT_ITEM,
    FHIR_TYPES,
    ITEM_CONTROL,
    ITEM_EXTRAS,
    ITEM_WEIGHT,
    MAX_VALUE,
    MIN_VALUE,
    OPS_BACK,
    ORDINAL,
    REGEX,
    TRANSLATION,
    UNIT,
    plain_number,
)
from app.questionnaires.schema import CHOICE_TYPES, COMPARISONS, KEY_RE


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
            option["score"] = plain_number(weight.get("valueDecimal", weight.get("valueInteger")))
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
        value = plain_number(entry.get(value_key)) if value_key else None
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
                question[name] = plain_number(ext.get("valueInteger", ext.get("valueDecimal")))
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
