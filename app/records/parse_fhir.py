"""FHIR R4 JSON lab results -> ParsedReport.

Accepted: a Bundle of any type (collection, transaction, batch, searchset,
document, message), a lone DiagnosticReport (its Observations contained or
referenced), or a lone Observation.

* Validation: fhir.resources 8 imports R5 by default and does not ship R4, so
  DiagnosticReport, Observation and Patient resources are checked against its
  R4B models (fhir.resources.R4B); for these resources R4B is the same as R4.
  Other resource types in a bundle are not checked and otherwise ignored.
* Each DiagnosticReport is one ParsedReport; its results are resolved by
  reference (fullUrl such as urn:uuid:..., "Observation/id", or "#id" for
  contained ones). A panel Observation brings its hasMember observations. An
  Observation referenced by nothing is a ParsedReport of its own (not grouped).
* An Observation gives one result for its own value and one per component
  with a value (blood pressure 85354-9 -> 8480-6 and 8462-4). Components have
  their own interpretation; the parent's flag is not copied to them.
* Subject: resolved to a Patient in the bundle or contained; a reference to
  a patient that is not in the file gives a PatientRef with what the reference
  carries (its identifier and display name); no subject at all is an error.
* Times without a UTC offset are in the clinic's time zone, as for HL7.
* Codes: a LOINC coding wins wherever it stands in ``coding``; the others are
  kept as alternate codes. Units: valueQuantity.code when its system is UCUM,
  else the unit text. Date, time, boolean and coded values are text, never numbers.
* References: "#id" (contained), a bundle entry's fullUrl, "Type/id", and a
  relative "Type/id" read against the fullUrl base of the entry that refers.
* source_key: the first identifier as "system|value", else the fullUrl, else
  "Type/id", else a digest of the resource.
"""
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

from fhir.resources.R4B import get_fhir_model_class
from flask_babel import gettext as _
from pydantic import ValidationError

from app.core import clock
from app.records import limits
from app.records.parse_hl7 import as_number, is_resident_id, join_name, normalise_flag
from app.records.parsed import (
    CANCELLED,
    CORRECTED,
    FINAL,
    PRELIMINARY,
    ParsedReport,
    ParsedResult,
    ParseError,
    PatientRef,
)

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
_CHECKED = {"DiagnosticReport", "Observation", "Patient"}
_STATUSES = {"final": FINAL, "amended": CORRECTED, "corrected": CORRECTED, "preliminary": PRELIMINARY,
             "registered": PRELIMINARY, "cancelled": CANCELLED, "entered-in-error": CANCELLED}
_ID_CARD_SYSTEMS = ("2.16.840.1.113883.2.23", "2.16.156.10011.1.3", "idcard", "id-card", "resident")
_TIME = re.compile(r"^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?"
                   r"(Z|[+-]\d\d:\d\d)?)?)?)?$")
_REFERENCE = re.compile(r"([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


class _Bad(Exception):
    pass


@dataclass
class _Entry:
    index: int | None  # position in the bundle, counted from 1; None for a lone resource
    full_url: str
    resource: dict
    problem: str = ""  # schema error, if any

    @property
    def ref(self) -> str:
        kind, rid = self.resource.get("resourceType", "?"), self.resource.get("id")
        return f"{kind}/{rid}" if rid else kind

    @property
    def label(self) -> str:
        return self.ref if self.index is None else _("entry %(n)d (%(ref)s)", n=self.index, ref=self.ref)


def _too_much(data: bytes) -> str:
    """Why a body is refused before it is read into objects ("" when it is not)."""
    containers = data.count(b"{") + data.count(b"[")
    if containers > limits.MAX_JSON_CONTAINERS:
        return _("the file holds %(n)s JSON objects and arrays; at most %(limit)s can be imported at once: "
                 "send fewer resources per bundle", n=f"{containers:,}", limit=f"{limits.MAX_JSON_CONTAINERS:,}")
    return ""


def _shape_problem(document) -> str:
    """Nesting past the limit, or a NUL character in any text, found without recursion."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            items = list(value.keys()) + list(value.values())
        elif isinstance(value, list):
            items = value
        else:
            if isinstance(value, str) and "\x00" in value:
                return _("the file holds a NUL character (\\u0000) in a text value")
            continue
        if depth > limits.MAX_JSON_DEPTH:
            return _("the JSON nests deeper than %(limit)d levels", limit=limits.MAX_JSON_DEPTH)
        stack.extend((item, depth + 1) for item in items)
    return ""


def parse_fhir(data: bytes) -> list[ParsedReport | ParseError]:
    if problem := _too_much(data):
        return [ParseError(_("file"), problem)]
    try:
        document = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        return [ParseError(_("file"), _("not JSON: %(error)s", error=exc))]
    except RecursionError:  # json's own guard, far past the limit below
        return [ParseError(_("file"), _("the JSON nests deeper than %(limit)d levels", limit=limits.MAX_JSON_DEPTH))]
    if problem := _shape_problem(document):
        return [ParseError(_("file"), problem)]
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        return [ParseError(_("file"), _("not a FHIR resource: no resourceType"))]
    kind = document["resourceType"]
    if kind == "Bundle":
        entries = document.get("entry") or []
        if not isinstance(entries, list):
            return [ParseError("Bundle", _("entry is not a list"))]
        entries = [_Entry(i, str(e.get("fullUrl") or ""), e["resource"]) for i, e in enumerate(entries, 1)
                   if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    elif kind in ("DiagnosticReport", "Observation"):
        entries = [_Entry(None, "", document)]
    else:
        return [ParseError(kind, _("a %(kind)s holds no results: send a Bundle, DiagnosticReport or Observation",
                                  kind=kind))]
    return _Reader(entries).read()


def _schema_problem(resource: dict) -> str:
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(part) for part in errors[0]["loc"]) or "(resource)"
        if len(errors) > 1:
            return _("not valid FHIR R4 at %(where)s: %(error)s (and %(n)d more)", where=where,
                     error=errors[0]["msg"], n=len(errors) - 1)
        return _("not valid FHIR R4 at %(where)s: %(error)s", where=where, error=errors[0]["msg"])
    except (ValueError, TypeError) as exc:
        return _("not valid FHIR R4: %(error)s", error=exc)
    except RecursionError:
        return _("not valid FHIR R4: nested too deep")
    return ""


class _Reader:
    def __init__(self, entries: list[_Entry]):
        self.entries = entries
        self.root: dict = {}
        self.by_key: dict[str, _Entry] = {}
        self.full_urls = {id(entry.resource): entry.full_url for entry in entries}
        for entry in entries:
            if entry.resource.get("resourceType") in _CHECKED:
                entry.problem = _schema_problem(entry.resource)
            for key in (entry.full_url, entry.resource.get("id") and entry.ref):
                if key:
                    self.by_key.setdefault(key, entry)

    def read(self) -> list[ParsedReport | ParseError]:
        """Reports in bundle order: every DiagnosticReport, and every Observation nothing refers to."""
        referenced = {id(target) for e in self.entries for target in self._targets(e.resource)}
        out = [self._report(e) for e in self.entries if e.resource.get("resourceType") == "DiagnosticReport"
               or e.resource.get("resourceType") == "Observation" and id(e.resource) not in referenced]
        return out or [ParseError(_("file"), _("the bundle holds no DiagnosticReport or Observation"))]

    def resolve(self, reference: str | None, container: dict) -> tuple[dict | None, _Entry | None]:
        """A reference -> (resource, its bundle entry or None when contained / not found)."""
        if not reference:
            return None, None
        if reference.startswith("#"):
            contained = next((r for r in container.get("contained") or []
                              if isinstance(r, dict) and r.get("id") == reference[1:]), None)
            return contained, None
        entry = self.by_key.get(reference) or self.by_key.get(self._absolute(reference, container))
        if entry is None and (match := _REFERENCE.search(reference)):
            entry = self.by_key.get(f"{match[1]}/{match[2]}")
        return (entry.resource, entry) if entry else (None, None)

    def _absolute(self, reference: str, container: dict) -> str:
        """A relative "Type/id" read against the base of the referring entry's fullUrl
        ("http://lab.example/fhir/DiagnosticReport/1" -> "http://lab.example/fhir/Type/id")."""
        url = self.full_urls.get(id(container), "")
        match = _REFERENCE.search(url) if "://" in url and "://" not in reference else None
        return url[:match.start()] + reference if match else ""

    def _targets(self, resource: dict) -> list[dict]:
        refs = [r for key in ("result", "hasMember") for r in resource.get(key) or [] if isinstance(r, dict)]
        return [t for t in (self.resolve(r.get("reference"), resource)[0] for r in refs) if t is not None]

    def _report(self, entry: _Entry) -> ParsedReport | ParseError:
        resource = self.root = entry.resource
        try:
            if entry.problem:
                raise _Bad(entry.problem)
            patient = self._patient(resource)
            if resource["resourceType"] == "Observation":
                results = self._observation(resource, entry.label, set())
            else:
                results = []
                seen: set[int] = set()
                for number, ref in enumerate(resource.get("result") or [], 1):
                    results += self._observation(*self._member(ref, resource, _("result %(n)d", n=number)), seen)
            if not results:
                raise _Bad(_("the report holds no results"))
            observed = _when(resource) or next((r.observed_at for r in results if r.observed_at), None)
        except _Bad as bad:
            return ParseError(entry.label, str(bad))
        for result in results:
            result.observed_at = result.observed_at or observed
            if resource.get("status") in ("cancelled", "entered-in-error"):
                result.status = CANCELLED
        return ParsedReport(source="fhir", source_key=_source_key(entry), label=entry.label, patient=patient,
                            observed_at=observed, results=results, sender=self._sender(resource),
                            title=_code(resource.get("code"))[2])

    def _member(self, ref, container: dict, what: str) -> tuple[dict, str]:
        """A result / hasMember reference -> (the Observation, where it is for messages)."""
        reference = ref.get("reference") if isinstance(ref, dict) else None
        what = _("%(what)s (%(reference)s)", what=what, reference=reference)
        resource, entry = self.resolve(reference, container)
        if resource is None and reference and reference.startswith("#"):
            resource, entry = self.resolve(reference, self.root)  # contained in the report itself
        if resource is None:
            raise _Bad(_("%(what)s is not in the file", what=what))
        if entry is not None and entry.problem:
            raise _Bad(_("%(what)s: %(entry)s is %(problem)s", what=what, entry=entry.label, problem=entry.problem))
        if resource.get("resourceType") != "Observation":
            raise _Bad(_("%(what)s is a %(kind)s, not an Observation", what=what, kind=resource.get("resourceType")))
        return resource, entry.label if entry else _("contained Observation/%(id)s", id=resource.get("id"))

    def _observation(self, obs: dict, where: str, seen: set) -> list[ParsedResult]:
        """An Observation -> its results: own value, components with a value, then hasMember ones."""
        if id(obs) in seen:
            return []
        seen.add(id(obs))
        status, when = _STATUSES.get(obs.get("status") or "", FINAL), _when(obs)
        results = [_result(part, _("%(where)s component %(n)d", where=where, n=n), status, when)
                   for n, part in enumerate(obs.get("component") or [], 1) if _has_value(part)]
        members = obs.get("hasMember") or []
        if _has_value(obs) or not (results or members):
            results.insert(0, _result(obs, where, status, when))
        for number, ref in enumerate(members, 1):
            member = self._member(ref, obs, _("%(where)s member %(n)d", where=where, n=number))
            results += self._observation(*member, seen)
        return results

    def _patient(self, resource: dict) -> PatientRef:
        subject = resource.get("subject")
        if not subject:
            raise _Bad(_("no subject: the file does not say which patient this is"))
        target, entry = self.resolve(subject.get("reference"), resource)
        if target is None:
            return _patient_from_reference(subject)
        if target.get("resourceType") != "Patient":
            raise _Bad(_("the subject is a %(kind)s, not a Patient", kind=target.get("resourceType")))
        if entry is not None and entry.problem:  # contained ones were checked with their container
            raise _Bad(_("the subject %(entry)s is %(problem)s", entry=entry.label, problem=entry.problem))
        return _patient_ref(target)

    def _sender(self, resource: dict) -> str:
        """The first performing Organization: its name, else the reference's display text."""
        for performer in resource.get("performer") or []:
            reference = performer.get("reference") or ""
            target = self.resolve(reference, resource)[0] or {}
            if target.get("resourceType") == "Organization" and target.get("name"):
                return target["name"]
            if "Organization/" in reference or performer.get("type") == "Organization":
                return performer.get("display") or ""
        return ""


def _has_value(element: dict) -> bool:
    return any(key.startswith("value") for key in element)


def _result(element: dict, position: str, status: str, when: datetime | None) -> ParsedResult:
    code, system, name = _code(element.get("code"))
    if not code:
        raise _Bad(_("%(where)s has no code", where=position))
    others = [c.get("code") for c in (element.get("code") or {}).get("coding") or []
              if c.get("code") and c.get("code") != code]
    value_text, value, unit = _value(element)
    ranges = element.get("referenceRange") or [{}]
    low, high = _quantity(ranges[0].get("low")), _quantity(ranges[0].get("high"))
    interpretation: dict = next(iter(element.get("interpretation") or []), {})
    flag = next((c.get("code") for c in interpretation.get("coding") or [] if c.get("code")),
                interpretation.get("text", ""))
    return ParsedResult(code=code, code_system=system, name=name, value_text=value_text, value=value, unit=unit,
                        ref_low=None if low is None else float(low), ref_high=None if high is None else float(high),
                        ref_text=ranges[0].get("text") or _range_text(low, high), flag=normalise_flag(flag),
                        status=status, observed_at=when, position=position, alt_codes=others,
                        value_kind=_value_kind(element, value))


def _value_kind(element: dict, value: float | None) -> str:
    if value is not None and ("valueQuantity" in element or "valueInteger" in element):
        return "number"
    if any(key in element for key in ("valueDateTime", "valueTime", "valueBoolean", "valueCodeableConcept",
                                      "valuePeriod", "valueRange", "valueRatio")):
        return "text"
    return ""


def _value(element: dict) -> tuple[str, float | None, str]:
    """value[x] -> (as text, number or None, unit). A quantity with a comparator has no number."""
    if (quantity := element.get("valueQuantity")) is not None:
        number, comparator = quantity.get("value"), quantity.get("comparator", "")
        text = "" if number is None else comparator + _number_text(number)
        value = None if number is None or comparator else float(number)
        ucum_code = quantity.get("code") if quantity.get("system") == UCUM else ""
        return text, value, ucum_code or quantity.get("unit") or quantity.get("code") or ""
    if "valueString" in element:
        return element["valueString"], as_number(element["valueString"]), ""
    if "valueInteger" in element:
        return str(element["valueInteger"]), float(element["valueInteger"]), ""
    if "valueCodeableConcept" in element:
        concept = element["valueCodeableConcept"]
        return concept.get("text") or next((c.get("display") or c.get("code") or ""
                                            for c in concept.get("coding") or []), ""), None, ""
    if "valueBoolean" in element:
        return str(element["valueBoolean"]).lower(), None, ""
    if (span := element.get("valueRange")) is not None:
        return _range_text(_quantity(span.get("low")), _quantity(span.get("high"))), None, ""
    if (ratio := element.get("valueRatio")) is not None:
        parts = (_quantity(ratio.get(key)) for key in ("numerator", "denominator"))
        return ":".join("" if n is None else _number_text(n) for n in parts), None, ""
    for key in ("valueDateTime", "valueTime"):
        if key in element:
            return str(element[key]), None, ""
    return "", None, ""


def _number_text(number) -> str:
    """A JSON number as written: "6.10" stays "6.10", 1E+3 becomes "1000"."""
    return format(number, "f") if isinstance(number, Decimal) else str(number)


def _quantity(quantity: dict | None) -> Decimal | None:
    return None if not quantity or quantity.get("value") is None else quantity["value"]


def _range_text(low, high) -> str:
    """A range as a lab prints it: "3.1-6.2", "<4.5" (high only), ">1.5" (low only)."""
    low, high = (None if n is None else _number_text(n) for n in (low, high))
    if low is not None and high is not None:
        return f"{low}-{high}"
    return f">{low}" if low is not None else f"<{high}" if high is not None else ""


def _code(concept: dict | None) -> tuple[str, str, str]:
    """CodeableConcept -> (code, "loinc" | "local", name); a LOINC coding wins; text alone is the code."""
    concept = concept or {}
    codings = [c for c in concept.get("coding") or [] if c.get("code")]
    loinc = next((c for c in codings if c.get("system") == LOINC), None)
    chosen = loinc or (codings[0] if codings else {})
    name = concept.get("text") or chosen.get("display") or ""
    return chosen.get("code") or name, "loinc" if loinc else "local", name


def _when(resource: dict) -> datetime | None:
    for text in (resource.get("effectiveDateTime"), (resource.get("effectivePeriod") or {}).get("start"),
                 resource.get("effectiveInstant"), resource.get("issued")):
        if text:
            return parse_time(text)
    return None


def parse_time(text: str) -> datetime:
    """FHIR date/dateTime/instant -> aware datetime (no offset: the clinic's time zone)."""
    match = _TIME.match(str(text))
    if not match:
        raise _Bad(_("unparseable date/time %(text)r", text=text))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz: tzinfo = clock.zone()
    if zone:
        delta = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) if zone != "Z" else timedelta(0)
        tz = timezone(-delta if zone[0] == "-" else delta)
    return datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                    int(second or 0), int((fraction or "0")[:6].ljust(6, "0")), tzinfo=tz)


def _source_key(entry: _Entry) -> str:
    for identifier in entry.resource.get("identifier") or []:
        if identifier.get("value"):
            return f"{identifier.get('system', '')}|{identifier['value']}"
    if entry.full_url or entry.resource.get("id"):
        return entry.full_url or entry.ref
    canonical = json.dumps(entry.resource, sort_keys=True, default=str, ensure_ascii=False)
    return "sha1:" + hashlib.sha1(canonical.encode()).hexdigest()[:16]


def _patient_from_reference(subject: dict) -> PatientRef:
    ref = PatientRef(name=subject.get("display") or "")
    if identifier := subject.get("identifier"):
        _take_identifiers(ref, [identifier])
    return ref


def _patient_ref(patient: dict) -> PatientRef:
    ref = PatientRef(sex={"male": "M", "female": "F"}.get(patient.get("gender") or "", ""))
    _take_identifiers(ref, patient.get("identifier") or [])
    names = patient.get("name") or []
    name = next((n for n in names if n.get("use") in ("official", "usual")), names[0] if names else {})
    ref.name = name.get("text") or join_name(name.get("family") or "", " ".join(name.get("given") or []))
    if re.fullmatch(r"\d{4}-\d\d-\d\d", patient.get("birthDate") or ""):
        ref.birth_date = date.fromisoformat(patient["birthDate"])
    phones = [t for t in patient.get("telecom") or [] if t.get("system") in ("phone", "sms") and t.get("value")]
    ref.mobile = next((t["value"] for t in phones if t.get("use") == "mobile"), phones[0]["value"] if phones else "")
    return ref


def _take_identifiers(ref: PatientRef, identifiers: list[dict]) -> None:
    """Resident ID number by system, type or shape; card number by a "card" system or an MR/MB type,
    else the first other identifier."""
    cards, others = [], []
    for identifier in identifiers:
        value, system = (identifier.get("value") or "").strip(), (identifier.get("system") or "").lower()
        kind = identifier.get("type") or {}
        codes = {c.get("code") for c in kind.get("coding") or []}
        text = (kind.get("text") or "").lower()
        if not value:
            continue
        if any(s in system for s in _ID_CARD_SYSTEMS) or "NNCHN" in codes or "身份证" in text \
                or is_resident_id(value):
            ref.id_number = ref.id_number or value.upper()
        elif "card" in system or codes & {"MR", "MB"} or "card" in text or "卡" in text:
            cards.append(value)
        else:
            others.append(value)
    ref.card_no = (cards + others + [""])[0]
