"""HL7 v2 ORU^R01 lab results -> ParsedReport, plus the ACK the HTTP API answers with.

* Text is UTF-8 (a BOM is dropped), else GB18030, the superset of GBK/GB2312 that
  Chinese LIS software writes; MSH-18 is not trusted (usually missing or wrong).
* MLLP (\\x0b ... \\x1c\\r) or plain files; segments end with \\r, \\n or \\r\\n; each MSH
  starts a message; FHS/BHS/BTS/FTS are skipped. A line not starting with a
  segment name (e.g. "M|||...") continues the line before it (wrapped segments).
* One ParsedReport per OBR group (the OBR and its OBX rows; OBX rows before any
  OBR form a group; OBRs without OBX are skipped), for the PID before it. A
  message that cannot be read is one ParseError and gives no report at all.
* source_key: "<MSH-4>|filler:<OBR-3>", else "|placer:<OBR-2>", else
  "|MSH-10:<id>#<n>": the same order sent twice keeps its key.
* Timestamps without a UTC offset are in the clinic's time zone (the clinic
  clock); datetimes are timezone aware; birth dates are taken as written.
* Card number: the first PID-3 id that is no resident ID (PID-2, then PID-4
  when PID-3 is empty). ID number: the PID-3 id typed NNCHN/ID card, or any id
  (also PID-19) shaped like an 18-character resident ID. Name: "张三", or
  "given family" for Latin names.
* OBX-11: F final; P, R, S, I preliminary; C corrected; X and also D (deleted),
  W (wrong patient) cancelled; anything else final.
* "OBX 3" in errors and positions is the third OBX of the message, not OBX-1.
* OBX-3's alternate triplet (components 4-6) is kept as another code: a LOINC code
  sent there is found as well as the primary one.
* OBX-2 types for dates, text and coded values (DT, DTM, TS, TM, TX, FT, CWE, CE,
  CNE, CF) are never read as numbers; an OBX with an empty OBX-5 gives no result
  (unless it retracts one: OBX-11 X, D or W).
* A field that is not needed and cannot be read (a birth date) is a warning on the
  report, not a refusal.
"""
import hashlib
import re
from datetime import datetime, timedelta, timezone, tzinfo

import hl7
from flask_babel import gettext as _
from hl7.util import generate_message_control_id, unescape

from app.core import clock
from app.records import limits
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

_SEGMENT_START = re.compile(r"^[A-Z][A-Z0-9]{2}(?:[^A-Za-z0-9\s]|$)")
_WRAPPERS = {"FHS", "BHS", "BTS", "FTS"}
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_TS = re.compile(r"^(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(?:\.(\d{1,6}))?([+-]\d{4})?$")
_ISO_LIKE = re.compile(r"^\d{4}([-/])\d\d\1\d\d(?:[ T]\d\d:\d\d(?::\d\d)?)?$")
_RESIDENT_ID = re.compile(r"^\d{6}(?:18|19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NUM = r"([+-]?\d+(?:\.\d+)?)"
_TAIL = r"(?:\s+[^\s:;,：；，]+|[^\d\s.:;,：；，][^\s:;,：；，]*)?\s*$"  # an optional unit after the range
_BETWEEN = re.compile(rf"^\s*{_NUM}\s*(?:-|~|～|_|—|–|－|to)\s*{_NUM}{_TAIL}")
_BELOW = re.compile(rf"^\s*(?:<=?|≤|＜)\s*{_NUM}{_TAIL}")
_ABOVE = re.compile(rf"^\s*(?:>=?|≥|＞)\s*{_NUM}{_TAIL}")
_FLAGS = {"N": "N", "L": "L", "H": "H", "LL": "LL", "HH": "HH", "A": "A", "AA": "A", "<": "L", ">": "H",
          "LU": "L", "HU": "H", "POS": "A", "DET": "A", "NEG": "N", "ND": "N", "NORMAL": "N", "LOW": "L",
          "HIGH": "H", "ABNORMAL": "A", "↑": "H", "↓": "L", "正常": "N", "偏低": "L", "低": "L", "偏高": "H",
          "高": "H", "异常": "A", "阳性": "A", "阴性": "N"}
_STATUSES = {"F": FINAL, "P": PRELIMINARY, "R": PRELIMINARY, "S": PRELIMINARY, "I": PRELIMINARY,
             "C": CORRECTED, "X": CANCELLED, "D": CANCELLED, "W": CANCELLED}
_SEXES = {"M": "M", "F": "F", "MALE": "M", "FEMALE": "F", "男": "M", "女": "F", "1": "M", "2": "F"}
_ID_CARD_TYPES = {"NNCHN", "ID CARD", "IDCARD", "ID-CARD", "身份证", "SFZ"}
_CODED = {"CWE", "CE", "CNE", "CF", "DT", "DTM", "TS", "TM", "TX", "FT", "ED", "RP"}  # never read as numbers


# HL7 table 0357 message error conditions, for ACKs: what made a message unreadable.
SEGMENT_SEQUENCE, REQUIRED_FIELD, DATA_TYPE, UNSUPPORTED_TYPE, UNSUPPORTED_EVENT = "100", "101", "102", "200", "201"


class _Bad(Exception):
    """Why a message cannot be read: where (segment and field), what, and its HL7 error condition."""

    def __init__(self, where: str, message: str, condition: str = DATA_TYPE):
        super().__init__(message)
        self.where, self.message, self.condition = where, message, condition


def parse_ts(text: str) -> datetime | None:
    """HL7 TS/DTM (also "YYYY-MM-DD HH:MM[:SS]", "YYYY/MM/DD ...") -> aware datetime; no offset: the clinic's zone.
    Raises ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    if _ISO_LIKE.match(text):
        text = re.sub(r"[-/: T]", "", text)
    match = _TS.match(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    zone: tzinfo = clock.zone()
    if offset:
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        zone = timezone(-delta if offset[0] == "-" else delta)
    return datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                    int(second or 0), int((fraction or "0").ljust(6, "0")), tzinfo=zone)


def as_number(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if _NUMBER.match(text) else None


def normalise_flag(text: str) -> str:
    """An abnormal flag as sent (HL7 table 0078, FHIR interpretation, Chinese words) -> "", N, L, H, LL,
    HH or A. HU/LU ("significantly" high/low) become H/L: they do not claim a critical value."""
    return _FLAGS.get((text or "").strip().upper(), "")


def join_name(family: str, given: str) -> str:
    if not (family and given):
        return family or given
    return family + given if _CJK.search(family + given) else f"{given} {family}"


def is_resident_id(value: str) -> bool:
    """Shaped like an 18-character PRC resident ID number (the checksum is not verified)."""
    return bool(_RESIDENT_ID.match(value or ""))


def parse_ref_range(text: str) -> tuple[float | None, float | None]:
    """"3.9-6.1", "3.9~6.1", "70_105" -> (low, high); "<5.2" -> (None, 5.2); ">1.0" -> (1.0, None)."""
    if match := _BETWEEN.match(text or ""):
        return float(match[1]), float(match[2])
    below, above = _BELOW.match(text or ""), _ABOVE.match(text or "")
    return (float(above[1]) if above else None), (float(below[1]) if below else None)


def decode(data: bytes) -> str:
    """UTF-8, else GB18030; raises UnicodeDecodeError when neither fits."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def split_messages(text: str) -> tuple[list[str], str]:
    """A file -> (messages with \\r between segments, whatever came before the first MSH)."""
    text = text.replace("\x0b", "").replace("\x1c", "\r")
    messages, junk = [], []
    for line in (line.strip() for line in re.split(r"\r\n|\r|\n", text)):
        if not line or line[:3] in _WRAPPERS:
            continue
        if line.startswith("MSH"):
            messages.append([line])
        elif not messages:
            junk.append(line)
        elif _SEGMENT_START.match(line):
            messages[-1].append(line)
        else:
            messages[-1][-1] += line
    return ["\r".join(segments) for segments in messages], "\n".join(junk)


def parse_hl7(data: bytes) -> list[ParsedReport | ParseError]:
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return [ParseError(_("file"), _("the file is neither UTF-8 nor GB18030 text"))]
    if "\x00" in text:
        return [ParseError(_("file"), _("the file holds a NUL character: HL7 v2 is text"))]
    messages, junk = split_messages(text)
    if not messages:
        return [ParseError(_("file"), _("no MSH segment: this is not an HL7 v2 message"))]
    out: list[ParsedReport | ParseError] = []
    if junk:
        out.append(ParseError(_("file, before message 1"),
                              _("data before the first MSH segment: %(data)r", data=junk[:80])))
    for number, message in enumerate(messages, 1):
        out.extend(parse_message(message, number))
    return out


def parse_batch(data: bytes) -> list[tuple[str, list[ParsedReport | ParseError]]]:
    """A posted body -> [(each message's text, what it gave)], for one acknowledgement per message. Text
    before the first MSH, or a body that is no HL7 at all, is one entry with an empty message text."""
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return [("", [ParseError(_("file"), _("the file is neither UTF-8 nor GB18030 text"))])]
    messages, junk = split_messages(text)
    if "\x00" in text:  # each message still gets its own answer
        return [(message, [ParseError(_("file"), _("the file holds a NUL character: HL7 v2 is text"))])
                for message in messages or [""]]
    if not messages:
        return [("", [ParseError(_("file"), _("no MSH segment: this is not an HL7 v2 message"),
                                 condition=SEGMENT_SEQUENCE)])]
    out = [(message, parse_message(message, number)) for number, message in enumerate(messages, 1)]
    if junk:
        out[0][1].insert(0, ParseError(_("file, before message 1"),
                                       _("data before the first MSH segment: %(data)r", data=junk[:80])))
    return out


def parse_message(text: str, number: int = 1) -> list[ParsedReport | ParseError]:
    """One message (as split_messages returns it) -> its reports, or one ParseError."""
    control = _header(text)[0][10]
    label = (_("message %(n)d (MSH-10 %(control)s)", n=number, control=control) if control
             else _("message %(n)d", n=number))
    try:
        _check_delimiters(text)
        _check_size(text)
        return _read_message(hl7.parse(text), label, control, text)
    except _Bad as bad:
        return [ParseError(_("%(message)s, %(where)s", message=label, where=bad.where) if bad.where else label,
                           bad.message, condition=bad.condition)]
    except MemoryError:
        raise
    except Exception as exc:  # python-hl7 raises assorted errors on malformed text
        return [ParseError(label, _("cannot read the message: %(error)s", error=exc))]


def _check_size(text: str) -> None:
    """Every separator becomes an object when the message is parsed: refuse a message with more than
    the limit before parsing it (an embedded PDF in OBX-5 is one long field, and counts little)."""
    separators = sum(text.count(c) for c in set(text[3:8])) + text.count("\r")
    if separators > limits.MAX_HL7_DELIMITERS:
        raise _Bad("", _("the message holds %(n)s fields and components; at most %(limit)s can be read",
                         n=f"{separators:,}", limit=f"{limits.MAX_HL7_DELIMITERS:,}"))


def _check_delimiters(text: str) -> None:
    separator = text[3:4]
    end = text.find(separator, 4) if separator else -1
    chars = text[4:end] if end > 0 else text[4:]
    if not separator or separator.isalnum() or separator.isspace():
        raise _Bad(_field("MSH", 1), _("bad field separator %(char)r", char=separator))
    symbols = separator + chars
    if not 4 <= len(chars) <= 5 or len(set(symbols)) != len(symbols) or any(
            c.isalnum() or c.isspace() for c in chars):
        raise _Bad(_field("MSH", 2), _("bad encoding characters %(chars)r: expected four distinct symbols "
                                        "such as ^~\\&", chars=chars))


def _read_message(message, label: str, control: str, text: str) -> list[ParsedReport | ParseError]:
    msh = message[0]
    code, event = _get(msh, 9).upper(), _get(msh, 9, 2).upper()
    code, event = code.split("_", 1) if "_" in code and not event else (code, event)  # "ORU_R01"
    if code != "ORU" or event not in ("R01", ""):
        raise _Bad(_field("MSH", 9), _("message type %(type)r is not ORU^R01", type=(_reps(msh, 9) or [""])[0]),
                   UNSUPPORTED_TYPE if code != "ORU" else UNSUPPORTED_EVENT)
    sender = _get(msh, 4) or _get(msh, 3)
    groups = [g for g in _groups(message) if g[2]]
    if not groups:
        raise _Bad("", _("the message holds no OBX results"), SEGMENT_SEQUENCE)
    reports: list[ParsedReport | ParseError] = []
    keys: set[str] = set()
    for index, (pid, obr, rows) in enumerate(groups, 1):
        report = _report(pid, obr, rows, sender)
        control = control or "sha1:" + hashlib.sha1(text.encode()).hexdigest()[:16]
        key = report.source_key or f"{sender}|MSH-10:{control}#{index}"
        report.source_key = key if key not in keys else f"{key}#{index}"
        keys.add(report.source_key)
        report.label = label if len(groups) == 1 else _("%(message)s, OBR %(n)d", message=label, n=index)
        reports.append(report)
    return reports


def _groups(message) -> list[tuple]:
    """-> [(PID, OBR or None, [(OBX number in the message, OBX), ...]), ...]"""
    pid, ordinal = None, 0
    groups: list[tuple] = []
    for segment in message[1:]:
        name = str(segment[0]).strip()
        if name == "PID":
            pid = segment
            groups.append((pid, None, []))
        elif name == "OBR":
            groups.append((pid, segment, []))
        elif name == "OBX":
            ordinal += 1
            groups = groups or [(pid, None, [])]
            groups[-1][2].append((ordinal, segment))
    return groups


def _report(pid, obr, rows: list, sender: str) -> ParsedReport:
    if pid is None:
        raise _Bad(_("segment PID"), _("no PID segment before the results: the patient is unknown"),
                   SEGMENT_SEQUENCE)
    warnings: list[str] = []
    results = [r for r in (_result(segment, ordinal, warnings) for ordinal, segment in rows) if r is not None]
    if not results:
        raise _Bad("", _("every OBX of the order is empty (no value in OBX-5)"), REQUIRED_FIELD)
    observed = _time(obr, 7) if obr is not None else None
    observed = observed or next((r.observed_at for r in results if r.observed_at), None)
    for result in results:
        result.observed_at = result.observed_at or observed
    filler, placer = _get(obr, 3), _get(obr, 2)
    key = f"{sender}|filler:{filler}" if filler else f"{sender}|placer:{placer}" if placer else ""
    return ParsedReport(source="hl7", source_key=key, label="", patient=_patient(pid, warnings),
                        observed_at=observed, results=results, sender=sender,
                        title=_get(obr, 4, 2) or _get(obr, 4), warnings=warnings)


def _patient(pid, warnings: list[str]) -> PatientRef:
    ref = PatientRef(name=_name(pid), sex=_SEXES.get(_get(pid, 8).upper(), ""), mobile=_phone(pid))
    try:
        birth = _time(pid, 7)
    except _Bad as bad:  # needed only when nothing else identifies the patient: then the report waits
        warnings.append(_("%(where)s: %(problem)s; the birth date was left out", where=bad.where,
                          problem=bad.message))
        birth = None
    ref.birth_date = birth.date() if birth else None
    ids = [(_get(pid, 3, 1, n), _get(pid, 3, 5, n).upper(), _get(pid, 3, 4, n)) for n in _rep_range(pid, 3)]
    ids = [i for i in ids if i[0]] or [(_get(pid, f), "", "") for f in (2, 4) if _get(pid, f)][:1]
    for value, kind, authority in ids:
        if kind in _ID_CARD_TYPES or "身份证" in authority or is_resident_id(value):
            ref.id_number = ref.id_number or value.upper()
        elif not ref.card_no:
            ref.card_no = value
    if not ref.id_number and is_resident_id(_get(pid, 19)):
        ref.id_number = _get(pid, 19).upper()
    return ref


def _name(pid) -> str:
    for n in _rep_range(pid, 5):
        if name := join_name(_get(pid, 5, 1, n), _get(pid, 5, 2, n)):
            return name
    return ""


def _phone(pid) -> str:
    """PID-13: prefer a cellphone (XTN-3 CP); the number is XTN-1, XTN-12 or area code + number."""
    phones = [(_get(pid, 13, 3, n).upper(), _get(pid, 13, 1, n) or _get(pid, 13, 12, n)
               or _get(pid, 13, 6, n) + _get(pid, 13, 7, n)) for n in _rep_range(pid, 13)]
    phones = [p for p in phones if p[1]]
    return next((number for kind, number in phones if kind == "CP"), phones[0][1] if phones else "")


def _result(obx, ordinal: int, warnings: list[str]) -> ParsedResult | None:
    where = _("segment OBX %(n)d", n=ordinal)
    if len(obx) - 1 < 3:
        raise _Bad(_field("OBX", 3, where), _("the segment is truncated: %(n)d fields, at least 3 needed",
                                              n=len(obx) - 1), REQUIRED_FIELD)
    code, name = _get(obx, 3), _get(obx, 3, 2)
    alternate, alternate_name = _get(obx, 3, 4), _get(obx, 3, 5)
    if not code and not name and not alternate:
        raise _Bad(_field("OBX", 3, where), _("no test code"), REQUIRED_FIELD)
    kind = _get(obx, 2).upper()
    value_text, value = _value(obx, kind)
    status = _STATUSES.get(_get(obx, 11).upper(), FINAL)
    if not value_text and status != CANCELLED:
        return None  # nothing measured (yet): an empty OBX-5 stores nothing
    ref_text = obx.separators[2].join(_reps(obx, 7)).strip()  # "3.9~6.1" arrives split at the "~"
    low, high = parse_ref_range(ref_text)
    primary_loinc = _get(obx, 3, 3).upper() in ("LN", "LOINC")
    alternate_loinc = _get(obx, 3, 6).upper() in ("LN", "LOINC")
    if alternate and alternate_loinc and not primary_loinc:  # the lab's own code first, LOINC second
        code, alternate = alternate, code or name
    return ParsedResult(code=code or name or alternate, name=name or alternate_name, value_text=value_text,
                        value=value, code_system="loinc" if primary_loinc or alternate_loinc else "local",
                        unit=_get(obx, 6) or _get(obx, 6, 2), ref_low=low, ref_high=high, ref_text=ref_text,
                        flag=normalise_flag(_get(obx, 8)), status=status,
                        observed_at=_optional_time(obx, 14, where, warnings), position=f"OBX {ordinal}",
                        alt_codes=[c for c in (alternate,) if c],
                        value_kind="text" if kind in _CODED else "number" if value is not None else "")


def _optional_time(segment, number: int, where: str, warnings: list[str]) -> datetime | None:
    """A time the report can do without (OBX-14 falls back to OBR-7): unreadable, it is a warning."""
    try:
        return _time(segment, number, where)
    except _Bad as bad:
        warnings.append(_("%(where)s: %(problem)s; the order's time is used", where=bad.where, problem=bad.message))
        return None


def _value(obx, kind: str) -> tuple[str, float | None]:
    """OBX-5 -> (value as text, number or None). SN "<^5.0" -> "<5.0"; "=^5.0" and "^5.0" -> 5.0."""
    if kind == "SN":
        parts = [_get(obx, 5, n) for n in (1, 2, 3, 4)]
        if as_number(parts[0]) is not None and not parts[1]:
            parts[:2] = ["", parts[0]]
        comparator, first, separator, second = parts
        text = ("" if comparator == "=" else comparator) + first + separator + second
        plain = comparator in ("", "=") and not separator and not second
        return text, as_number(first) if plain else None
    if kind in ("CWE", "CE", "CNE", "CF"):
        return _get(obx, 5, 2) or _get(obx, 5), None
    text = "\n".join(_reps(obx, 5)).strip()
    return text, None if kind in _CODED else as_number(text)


def _get(segment, number: int, component: int = 1, repetition: int = 1, sub: int = 1) -> str:
    """One value, unescaped and stripped; "" when absent (python-hl7 raises for some absent paths)."""
    if segment is None:
        return ""
    try:
        value = str(segment.extract_field(1, number, repetition, component, sub)).strip()
    except (IndexError, TypeError, ValueError, AttributeError):
        return ""
    return "" if value == '""' else value


def _reps(segment, number: int) -> list[str]:
    """The repetitions of a field as text, components kept with their separators."""
    if segment is None or number >= len(segment):
        return []
    return [unescape(segment, str(repetition)) for repetition in segment(number)]


def _rep_range(segment, number: int) -> range:
    return range(1, len(_reps(segment, number)) + 1)


def _time(segment, number: int, where: str = "") -> datetime | None:
    name = str(segment[0]).strip()
    text = _get(segment, number)
    try:
        return parse_ts(text)
    except ValueError as err:
        raise _Bad(_field(name, number, where), _("unparseable date/time %(text)r", text=text),
                   DATA_TYPE) from err


def _field(segment: str, number: int, where: str = "") -> str:
    """Where in a message, for errors: "segment OBX 3, field OBX-5"."""
    return _("%(segment)s, field %(segment_name)s-%(n)d", segment=where or _("segment %(name)s", name=segment),
             segment_name=segment, n=number)


def _header(message: str) -> tuple[list[str], bool]:
    """The raw MSH fields numbered as in HL7 (MSH-1 is [1]; 21 at least, "" when absent), read even when
    python-hl7 cannot parse the message, and whether its delimiters are usable."""
    line = next((x for x in re.split(r"[\r\n]+", message.replace("\x0b", "")) if x.startswith("MSH")), "")
    separator = line[3:4]
    fields = ["", separator, *line.split(separator)[1:]] if separator and not separator.isalnum() else []
    try:
        _check_delimiters(line)
    except _Bad:
        return fields + [""] * 21, False
    return fields + [""] * 21, True


def build_ack(message: str, code: str, text: str = "", *, control_id: str | None = None,
              now: datetime | None = None, error: str = "207^Application internal error^HL70357",
              severity: str = "E") -> str:
    """An original-mode ACK for one received message (its text, or as much as could be read): sender and
    receiver swapped, MSA-1 code (AA, AE, AR), MSA-2 the original MSH-10, MSA-3 and ERR-8 the text,
    ERR-3 the HL7 table 0357 error (written with "^", replaced by the message's component separator)."""
    msh, usable = _header(message)
    separator, chars = (msh[1], msh[2]) if usable else ("|", "^~\\&")
    component = chars[0]
    trigger = (msh[9].split(component) + [""])[1] or "R01"
    stamp = (now or clock.now()).strftime("%Y%m%d%H%M%S%z")
    note = _escape(text, separator, chars)
    segments = [separator.join(["MSH", chars, msh[5], msh[6], msh[3], msh[4], stamp, "",
                                component.join(["ACK", trigger, "ACK"]), control_id or generate_message_control_id(),
                                msh[11] or "P", msh[12] or "2.5"]),
                separator.join(["MSA", code, msh[10], note])]
    if (code != "AA" or severity == "W") and note:
        segments.append(separator.join(["ERR", "", "", error.replace("^", component), severity, "", "", "", note]))
    return "\r".join(segments) + "\r"


CONDITIONS = {SEGMENT_SEQUENCE: "Segment sequence error", REQUIRED_FIELD: "Required field missing",
              DATA_TYPE: "Data type error", UNSUPPORTED_TYPE: "Unsupported message type",
              UNSUPPORTED_EVENT: "Unsupported event code", "207": "Application internal error",
              "0": "Message accepted"}


def error_code(condition: str) -> str:
    """An HL7 table 0357 condition as ERR-3 ("200^Unsupported message type^HL70357")."""
    return f"{condition}^{CONDITIONS.get(condition, 'Application internal error')}^HL70357"


def ack_for(data: bytes, code: str, text: str = "") -> str:
    """ACKs for a posted body: one per message in it (same code and text), or one without MSA-2."""
    try:
        messages = split_messages(decode(data))[0]
    except UnicodeDecodeError:
        messages = []
    return "".join(build_ack(message, code, text) for message in messages or [""])


def _escape(text: str, separator: str, chars: str) -> str:
    """Text for an ACK field: line breaks become spaces, delimiters become \\F\\ \\S\\ \\R\\ \\E\\ \\T\\."""
    codes = {separator: "F", chars[0]: "S", chars[1]: "R", chars[2]: "E", chars[3]: "T"}
    return "".join(f"{chars[2]}{codes[c]}{chars[2]}" if c in codes else c
                   for c in re.sub(r"[\r\n]+", " ", text or ""))
