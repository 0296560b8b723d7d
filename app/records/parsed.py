"""What every import door produces: reports as they were sent, before any
matching, unit conversion or storage. Parsers (HL7 v2, FHIR R4, spreadsheets)
are pure functions from bytes to these; the import service does the rest."""
from dataclasses import dataclass, field
from datetime import date, datetime

# Normalised result statuses (HL7 OBX-11 / FHIR Observation.status).
FINAL, PRELIMINARY, CORRECTED, CANCELLED = "final", "preliminary", "corrected", "cancelled"


@dataclass
class ParsedResult:
    code: str                      # the test code as sent (a LOINC code or the lab's local code)
    code_system: str               # "loinc" or "local"
    name: str = ""                 # display text as sent (OBX-3.2, code.text / coding.display, column title)
    value_text: str = ""           # the value exactly as sent, e.g. "5.6", "<5.0", "阴性"
    value: float | None = None     # set when value_text is a plain number
    unit: str = ""                 # unit as reported ("mmol/L", "mg/dL", "%", "" if none)
    ref_low: float | None = None   # the lab's printed reference range, when it has one
    ref_high: float | None = None
    ref_text: str = ""             # the range as printed ("3.9-6.1", "<5.2", "阴性")
    flag: str = ""                 # the lab's abnormal flag: "", "N", "L", "H", "LL", "HH", "A"
    status: str = FINAL            # FINAL, PRELIMINARY, CORRECTED or CANCELLED
    observed_at: datetime | None = None  # per-result time (OBX-14, effective[x]); falls back to the report's
    position: str = ""             # where it came from, for error messages ("OBX 4", "component 1", "column C")
    alt_codes: list[str] = field(default_factory=list)  # the other codings sent (OBX-3 alternate, FHIR codings)
    value_kind: str = ""           # "number", "text" (dates, text and coded values: never a number), "" unknown


@dataclass
class PatientRef:
    card_no: str = ""
    id_number: str = ""            # resident ID number if the source carries one
    name: str = ""
    birth_date: date | None = None
    sex: str = ""                  # "M", "F" or ""
    mobile: str = ""


@dataclass
class ParsedReport:
    source: str                    # "hl7", "fhir" or "table"
    source_key: str                # stable identity of this report at its source (for idempotency)
    label: str                     # how to name it in messages: "message 3 (MSH-10 MSG00001)", "row 7"
    patient: PatientRef
    observed_at: datetime | None   # when the exam took place (OBR-7, effectiveDateTime, the date column)
    results: list[ParsedResult] = field(default_factory=list)
    sender: str = ""               # sending facility / lab name, when known
    title: str = ""                # report title (OBR-4 text, DiagnosticReport.code.text)
    warnings: list[str] = field(default_factory=list)  # fields that could not be read and were not needed


@dataclass
class ParseError:
    """One report (message, resource, row group) that could not be read; the
    others in the same file are unaffected."""

    # "message 2, segment OBX 3, field OBX-5" / "entry 4 (Observation/bp)" / "row 7, column 空腹血糖"
    location: str
    message: str
    condition: str = "102"  # HL7 table 0357 error condition, for ACKs (102: data type error)

    def __str__(self) -> str:
        from flask_babel import gettext as _

        return _("%(where)s: %(problem)s", where=self.location, problem=self.message)
