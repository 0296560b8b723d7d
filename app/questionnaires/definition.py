"""Questionnaire definitions: the JSON format, its structural check, branching and answer validation.

A definition is plain JSON (one file per instrument in tenants/packs/questionnaires/, or built by an admin).
Nothing here touches the database: the views and services build on these functions.
"""
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

PACK_DIR = Path(__file__).resolve().parents[2] / "tenants" / "packs" / "questionnaires"

KINDS = ("screening", "intake", "lifestyle", "survey")
TYPES = ("single", "multiple", "likert", "number", "date", "text", "textarea", "yesno", "matrix")
CHOICE_TYPES = ("single", "multiple", "likert")
OPS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "answered")
COMPARISONS = ("gt", "gte", "lt", "lte")
FLAG_LEVELS = ("info", "warning", "critical")
LANGS = ("zh", "en")
# Score methods the engine implements (app/questionnaires/scoring.py); rule-banded ones decide their band themselves.
METHODS = ("sum", "mean", "converted", "count", "ipaq_short_2005")
BAND_RULES = ("tcm_balanced",)
RULE_BANDS = {"tcm_balanced": ("yes", "basically_yes", "no"), "ipaq_short_2005:category": ("low", "moderate", "high")}
IPAQ_ITEMS = ("vig_days", "vig_minutes", "mod_days", "mod_minutes", "walk_days", "walk_minutes")

# Health-history fields an intake question may propose (app/patients/models.py keeps the same values;
# tests/questionnaires check they agree).
LIFESTYLE_FIELDS = {
    "smoking": ("never", "former", "current"),
    "alcohol": ("none", "occasional", "regular"),
    "exercise": ("none", "occasional", "regular"),
}
HISTORY_KINDS = ("illness", "surgery", "allergy", "family", "medication")

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE_WORDS = ("true", "yes", "1", "on", "y")
FALSE_WORDS = ("false", "no", "0", "off", "n")


# --- the pack -------------------------------------------------------------------------------------------------


@cache
def _load_pack() -> tuple[dict, ...]:
    defs = []
    for path in sorted(PACK_DIR.glob("*.json")):
        defn = json.loads(path.read_text(encoding="utf-8"))
        with force_locale("en"):  # for whoever maintains the pack's files
            problems = check_definition(defn)
        if problems:
            raise ValueError(f"{path.name}: " + "; ".join(problems))
        if defn["key"] != path.stem:
            raise ValueError(f"{path.name}: its key is {defn['key']!r}, not the file's name")
        defs.append(defn)
    return tuple(sorted(defs, key=lambda d: d["key"]))


def pack_definitions() -> list[dict]:
    """Every instrument of the pack, checked, sorted by key (copies: callers may change them)."""
    return [json.loads(json.dumps(d)) for d in _load_pack()]


def pack_definition(key: str) -> dict | None:
    for defn in _load_pack():
        if defn["key"] == key:
            return json.loads(json.dumps(defn))
    return None


# --- walking a definition ---------------------------------------------------------------------------------------


def iter_questions(defn: dict) -> Iterator[tuple[dict, dict]]:
    for section in defn.get("sections") or []:
        for question in section.get("questions") or []:
            yield section, question


def questions_by_key(defn: dict) -> dict[str, dict]:
    return {q["key"]: q for _, q in iter_questions(defn) if isinstance(q, dict) and "key" in q}


def resolve_ref(defn: dict, ref: str, index: dict[str, dict] | None = None) -> tuple[dict, str | None] | None:
    """A reference is a question key, or "matrix_key.row_key" for one row of a matrix (index: questions_by_key,
    when the caller has it)."""
    qkey, _, row = ref.partition(".")
    question = (index if index is not None else questions_by_key(defn)).get(qkey)
    if question is None:
        return None
    if row:
        if question.get("type") != "matrix" or row not in {r.get("key") for r in question.get("rows") or []}:
            return None
        return question, row
    return question, None


def answer_of(answers: dict, ref: str) -> Any:
    qkey, _, row = ref.partition(".")
    value = answers.get(qkey)
    if row:
        return value.get(row) if isinstance(value, dict) else None
    return value


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def option_score(question: dict, code: Any) -> float | None:
    for option in question.get("options") or []:
        if option.get("code") == code:
            score = option.get("score")
            return None if score is None else score
    return None


def condition_refs(cond: Any) -> list[str]:
    if not isinstance(cond, dict):
        return []
    if "all" in cond or "any" in cond:
        return [ref for sub in (cond.get("all") or cond.get("any") or []) for ref in condition_refs(sub)]
    return [cond["question"]] if isinstance(cond.get("question"), str) else []


def evaluate(defn: dict, cond: dict | None, answers: dict) -> bool:
    """Whether a CONDITION holds for these answers; an unanswered question satisfies only
    {"op": "answered", "value": false}."""
    if cond is None:
        return True
    if "all" in cond:
        return all(evaluate(defn, sub, answers) for sub in cond["all"])
    if "any" in cond:
        return any(evaluate(defn, sub, answers) for sub in cond["any"])
    ref = cond["question"]
    op = cond["op"]
    target = cond.get("value")
    value = answer_of(answers, ref)
    if op == "answered":
        return (not is_blank(value)) == (target is not False)
    if is_blank(value):
        return False
    resolved = resolve_ref(defn, ref)
    if resolved is None:
        return False
    question, row = resolved
    qtype = "single" if row else question.get("type")
    if op in COMPARISONS:
        if qtype in CHOICE_TYPES or row:
            codes = value if isinstance(value, list) else [value]
            scores = [s for s in (option_score(question, c) for c in codes) if s is not None]
            if not scores:
                return False
            number: Any = sum(scores)
        else:
            number = value
        try:
            return {
                "gt": number > target,
                "gte": number >= target,
                "lt": number < target,
                "lte": number <= target,
            }[op]
        except TypeError:
            return False
    wanted = target if op == "in" else [target]
    if not isinstance(wanted, list):
        wanted = [wanted]
    if isinstance(value, list):  # multiple choice: eq/in mean "chose (any of) it"
        hit = any(code in value for code in wanted)
    else:
        hit = any(_same(value, w) for w in wanted)
    return (not hit) if op == "ne" else hit


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def visible_questions(defn: dict, answers: dict) -> list[str]:
    """Keys of the questions shown, in order; conditions see only the answers of questions shown before them."""
    shown: list[str] = []
    seen: dict = {}
    for section in defn.get("sections") or []:
        if not evaluate(defn, section.get("show_if"), seen):
            continue
        for question in section.get("questions") or []:
            if not evaluate(defn, question.get("show_if"), seen):
                continue
            shown.append(question["key"])
            if question["key"] in answers:
                seen[question["key"]] = answers[question["key"]]
    return shown


# --- answers -----------------------------------------------------------------------------------------------------


class _Bad(Exception):
    """An answer that cannot be read as its question's type."""


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Bad
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError as exc:
            raise _Bad from exc
        if not math.isfinite(number):
            raise _Bad
        return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+(\.0*)?", text) else number
    raise _Bad


def coerce(question: dict, value: Any) -> Any:
    """The answer as its question's type (raises _Bad when it cannot be read); blank stays None."""
    if isinstance(value, str) and not value.strip() and question.get("type") not in ("text", "textarea"):
        return None
    qtype = question.get("type")
    if qtype in ("single", "likert"):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _Bad
        return str(value).strip()
    if qtype == "multiple":
        if isinstance(value, str | int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str | int) for v in value):
            raise _Bad
        codes = [str(v).strip() for v in value if str(v).strip()]
        return list(dict.fromkeys(codes)) or None
    if qtype == "number":
        return _number(value)
    if qtype == "date":
        if not isinstance(value, str):
            raise _Bad
        return value.strip()
    if qtype in ("text", "textarea"):
        if not isinstance(value, str):
            raise _Bad
        text = value.strip()
        return text or None
    if qtype == "yesno":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
            return True
        if isinstance(value, str) and value.strip().lower() in FALSE_WORDS:
            return False
        raise _Bad
    if qtype == "matrix":
        if not isinstance(value, dict):
            raise _Bad
        rows = {r["key"] for r in question.get("rows") or []}
        out = {}
        for row, code in value.items():
            if row in rows and not is_blank(code):
                if isinstance(code, bool) or not isinstance(code, str | int):
                    raise _Bad
                out[row] = str(code).strip()
        return out or None
    raise _Bad


def _coerced(defn: dict, answers: dict) -> tuple[dict, set[str]]:
    """Answers to known questions, coerced where they can be; the keys that could not be read."""
    out: dict = {}
    bad: set[str] = set()
    for key, question in questions_by_key(defn).items():
        if key not in answers:
            continue
        try:
            value = coerce(question, answers[key])
        except _Bad:
            bad.add(key)
            out[key] = answers[key]
            continue
        if value is not None:
            out[key] = value
    return out, bad


def clean_answers(defn: dict, answers: dict) -> dict:
    """Answers to the questions shown, as their types; hidden, unknown, blank and unreadable answers are dropped."""
    coerced, bad = _coerced(defn, answers)
    for key in bad:
        coerced.pop(key)
    shown = visible_questions(defn, coerced)
    return {key: coerced[key] for key in shown if key in coerced}


def validate_answers(defn: dict, answers: dict, *, partial: bool = False) -> dict[str, str]:
    """Question key -> message for each answer that cannot stand; required applies to shown questions unless partial."""
    coerced, bad = _coerced(defn, answers)
    readable = {k: v for k, v in coerced.items() if k not in bad}
    errors: dict[str, str] = {}
    by_key = questions_by_key(defn)
    for key in visible_questions(defn, readable):
        question = by_key[key]
        if key in bad:
            errors[key] = _type_message(question)
            continue
        value = coerced.get(key)
        if value is None:
            if question.get("required") and not partial:
                errors[key] = _l("Please answer this question.")
            continue
        message = _check_value(question, value, partial)
        if message is not None:
            errors[key] = message
    return errors


def _type_message(question: dict) -> Any:
    qtype = question.get("type")
    if qtype == "number":
        return _l("Enter a number.")
    if qtype == "date":
        return _l("Enter a date as YYYY-MM-DD.")
    if qtype == "yesno":
        return _l("Answer yes or no.")
    if qtype == "matrix":
        return _l("Choose one answer in each row.")
    if qtype in ("text", "textarea"):
        return _l("Enter text.")
    return _l("Choose one of the options offered.")


def _check_value(question: dict, value: Any, partial: bool) -> Any:
    qtype = question.get("type")
    codes = {o.get("code") for o in question.get("options") or []}
    if qtype in ("single", "likert"):
        return None if value in codes else _l("Choose one of the options offered.")
    if qtype == "multiple":
        return None if all(v in codes for v in value) else _l("Choose only among the options offered.")
    if qtype == "number":
        if question.get("integer") and not isinstance(value, int):
            return _l("Enter a whole number.")
        low, high = question.get("min"), question.get("max")
        if low is not None and high is not None and not low <= value <= high:
            return _l("Enter a number from %(min)s to %(max)s.", min=low, max=high)
        if low is not None and value < low:
            return _l("Enter a number of at least %(min)s.", min=low)
        if high is not None and value > high:
            return _l("Enter a number of at most %(max)s.", max=high)
        return None
    if qtype == "date":
        if not DATE_RE.match(value):
            return _l("Enter a date as YYYY-MM-DD.")
        try:
            date.fromisoformat(value)
        except ValueError:
            return _l("This date does not exist.")
        return None
    if qtype in ("text", "textarea"):
        limit = question.get("max_length")
        if limit is not None and len(value) > limit:
            return _l("Use at most %(max)s characters.", max=limit)
        pattern = question.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            custom = question.get("pattern_message")
            return custom if custom else _l("This answer is not in the expected format.")
        return None
    if qtype == "matrix":
        rows = [r["key"] for r in question.get("rows") or []]
        if any(code not in codes for code in value.values()):
            return _l("Choose one of the options offered in each row.")
        if not partial and question.get("required") and any(row not in value for row in rows):
            return _l("Choose one answer in each row.")
        return None
    return None


# --- the structural check --------------------------------------------------------------------------------------
# Each problem names what it concerns and is read in the reader's language (lazy strings): the builder shows them
# on zh or en pages; outside a request they read in the app's default language, or plain English without an app.


@dataclass(frozen=True)
class At:
    """Where a problem is: its target ("question:KEY", "section:KEY", "score:KEY", or "" for the definition as a
    whole and its flags) and how the message names it."""
    target: str
    label: Any = ""


@dataclass(frozen=True)
class Problem:
    """One structural problem; ``field`` is the builder form's field it concerns ("problems" when none)."""
    at: At
    message: Any
    field: str = "problems"

    @property
    def target(self) -> str:
        return self.at.target

    def __str__(self) -> str:
        if not self.at.label:
            return str(self.message)
        return str(_l("%(where)s: %(problem)s", where=self.at.label, problem=self.message))


def _name(value: Any) -> str:
    """A key as the messages quote it."""
    return repr(value)


def _section_at(skey: Any) -> At:
    return At(f"section:{skey}" if isinstance(skey, str) else "", _l("section %(section)s", section=_name(skey)))


def _question_at(section_key: Any, key: Any) -> At:
    return At(f"question:{key}" if isinstance(key, str) else "",
              _l("question %(question)s in section %(section)s", question=_name(key), section=_name(section_key)))


def _score_at(key: Any) -> At:
    return At(f"score:{key}" if isinstance(key, str) else "", _l("score %(score)s", score=_name(key)))


def _bilingual(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGS)


def _check_condition(defn: dict, cond: Any, at: At, earlier: set[str] | None, problems: list[Problem]) -> None:
    """earlier: the question keys a show_if may name (None for flags, which may name any question)."""
    def add(message: Any) -> None:
        problems.append(Problem(at, message, "cond_question"))

    if not isinstance(cond, dict):
        add(_l("the condition must be an object"))
        return
    if "all" in cond or "any" in cond:
        subs = cond.get("all") if "all" in cond else cond.get("any")
        if not isinstance(subs, list) or not subs:
            add(_l("'all'/'any' needs a non-empty list of conditions"))
            return
        for sub in subs:
            _check_condition(defn, sub, at, earlier, problems)
        return
    ref, op = cond.get("question"), cond.get("op")
    if op not in OPS:
        add(_l("unknown operator %(op)s", op=_name(op)))
    if not isinstance(ref, str) or resolve_ref(defn, ref) is None:
        add(_l("the condition names an unknown question %(question)s", question=_name(ref)))
        return
    if earlier is not None and ref.partition(".")[0] not in earlier:
        add(_l("the condition names question %(question)s, which does not come before it", question=_name(ref)))
    if op == "in" and not isinstance(cond.get("value"), list):
        add(_l("'in' needs a list of values"))
    if op in COMPARISONS and (isinstance(cond.get("value"), bool) or not isinstance(cond.get("value"), int | float)):
        add(_l("%(op)s needs a number", op=_name(op)))
    if op in ("eq", "ne", "in"):
        question, row = resolve_ref(defn, ref)  # type: ignore[misc]
        values = cond.get("value") if op == "in" else [cond.get("value")]
        codes = {o.get("code") for o in question.get("options") or []}
        if (row or question.get("type") in CHOICE_TYPES) and isinstance(values, list):
            for v in values:
                if v not in codes:
                    add(_l("%(value)s is not an option code of question %(question)s", value=_name(v),
                           question=_name(ref)))
        is_yesno = question.get("type") == "yesno"
        if is_yesno and isinstance(values, list) and not all(isinstance(v, bool) for v in values):
            add(_l("a yes/no question is compared with true or false"))


def _check_question(defn: dict, section_key: Any, q: dict, earlier: set[str], problems: list[Problem]) -> None:
    at = _question_at(section_key, q.get("key"))

    def add(message: Any, field: str = "problems") -> None:
        problems.append(Problem(at, message, field))

    qtype = q.get("type")
    if qtype not in TYPES:
        add(_l("unknown type %(type)s", type=_name(qtype)))
        return
    if not _bilingual(q.get("text")):
        add(_l("the text needs both zh and en"), "text_zh")
    if "help" in q and not _bilingual(q["help"]):
        add(_l("the help needs both zh and en"), "help_zh")
    if not isinstance(q.get("required", False), bool):
        add(_l("'required' must be true or false"))
    if qtype in CHOICE_TYPES or qtype == "matrix":
        _check_options(q, add)
    if qtype == "matrix":
        rows = q.get("rows")
        if not isinstance(rows, list) or not rows:
            add(_l("a matrix needs rows"), "rows")
        else:
            row_keys = [r.get("key") for r in rows]
            if not all(isinstance(k, str) and KEY_RE.match(k) for k in row_keys):
                add(_l("every row needs a key (lower-case letters, digits, _)"), "rows")
            if len(set(row_keys)) != len(row_keys):
                add(_l("duplicate row keys"), "rows")
            for r in rows:
                if not _bilingual(r.get("text")):
                    add(_l("row %(row)s needs text in zh and en", row=_name(r.get("key"))), "rows")
    if qtype == "number":
        low, high = q.get("min"), q.get("max")
        for name, v in (("min", low), ("max", high)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                add(_l("%(name)s must be a number", name=name), "min")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            add(_l("min is above max"), "min")
    if qtype in ("text", "textarea"):
        if "max_length" in q and (not isinstance(q["max_length"], int) or q["max_length"] < 1):
            add(_l("max_length must be a positive whole number"), "max_length")
        if q.get("pattern"):
            try:
                re.compile(q["pattern"])
            except re.error:
                add(_l("the pattern is not a valid regular expression"), "pattern")
            if "pattern_message" in q and not _bilingual(q["pattern_message"]):
                add(_l("the pattern message needs both zh and en"), "pattern")
    if q.get("show_if") is not None:
        show_if_at = At(at.target, _l("question %(question)s in section %(section)s show_if",
                                      question=_name(q.get("key")), section=_name(section_key)))
        _check_condition(defn, q["show_if"], show_if_at, earlier, problems)
    _check_history_field(q, add)


def _check_options(q: dict, add) -> None:
    options = q.get("options")
    if not isinstance(options, list) or not options:
        add(_l("a %(type)s question needs options", type=q.get("type")), "options")
        return
    codes = [o.get("code") for o in options]
    if not all(isinstance(c, str) and c for c in codes):
        add(_l("every option needs a code (text)"), "options")
    if len(set(codes)) != len(codes):
        add(_l("duplicate option codes"), "options")
    for o in options:
        if not _bilingual(o.get("label")):
            add(_l("option %(option)s needs a label in zh and en", option=_name(o.get("code"))), "options")
        score = o.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            add(_l("option %(option)s has a score that is not a number", option=_name(o.get("code"))), "options")


def _check_history_field(q: dict, add) -> None:
    field = q.get("history_field")
    if field is None:
        return
    qtype = q.get("type")
    if field in LIFESTYLE_FIELDS:
        if qtype != "single":
            add(_l("history field %(field)s needs a single-choice question", field=_name(field)))
            return
        allowed = LIFESTYLE_FIELDS[field]
        for o in q.get("options") or []:
            if o.get("code") not in allowed:
                add(_l("option %(option)s is not a %(field)s value (%(allowed)s)", option=_name(o.get("code")),
                       field=field, allowed=", ".join(allowed)), "options")
    elif isinstance(field, str) and field.startswith("history:") and field[8:] in HISTORY_KINDS:
        if qtype not in ("text", "textarea"):
            add(_l("history field %(field)s needs a text question (one item a line)", field=_name(field)))
    else:
        add(_l("unknown history field %(field)s", field=_name(field)))

def _item_refs(defn: dict, items: Any) -> list[str]:
    """A score's items with matrix keys expanded to their rows."""
    refs: list[str] = []
    by_key = questions_by_key(defn)
    for ref in items if isinstance(items, list) else []:
        question = by_key.get(ref) if isinstance(ref, str) else None
        if question is not None and question.get("type") == "matrix":
            refs.extend(f"{ref}.{r['key']}" for r in question.get("rows") or [])
        else:
            refs.append(ref)
    return refs


def score_range(defn: dict, sdef: dict) -> tuple[float, float] | None:
    """The lowest and highest value a score can take, where the method makes that plain. A score whose branches
    exclude each other (FINDRISC asks one of two waist questions) declares its "range" instead."""
    declared = sdef.get("range")
    if isinstance(declared, list) and len(declared) == 2 and all(isinstance(v, int | float) for v in declared):
        return float(declared[0]), float(declared[1])
    method = sdef.get("method")
    if method == "converted" or (method == "mean" and sdef.get("transform") == "percent"):
        return 0.0, 100.0
    lows, highs = [], []
    for ref in _item_refs(defn, sdef.get("items")):
        resolved = resolve_ref(defn, ref)
        if resolved is None:
            return None
        scores = [o.get("score") for o in resolved[0].get("options") or [] if o.get("score") is not None]
        if not scores:
            return None
        lows.append(min(scores))
        highs.append(max(scores))
    if not lows:
        return None
    if method == "sum":
        return float(sum(lows)), float(sum(highs))
    if method == "mean":
        return float(min(lows)), float(max(highs))
    if method == "count":
        return 0.0, float(len(lows))
    return None


def _integral(defn: dict, sdef: dict) -> bool:
    if sdef.get("method") == "count":
        return True
    if sdef.get("method") != "sum":
        return False
    for ref in _item_refs(defn, sdef.get("items")):
        resolved = resolve_ref(defn, ref)
        if resolved is None:
            return False
        if any(not isinstance(o.get("score"), int) for o in resolved[0].get("options") or []):
            return False
    return True


def _check_bands(defn: dict, sdef: dict, at: At, problems: list[Problem]) -> None:
    def add(message: Any) -> None:
        problems.append(Problem(at, message, "bands"))

    bands = sdef.get("bands") or []
    if not isinstance(bands, list):
        add(_l("bands must be a list"))
        return
    keys = [b.get("key") for b in bands]
    if len(set(keys)) != len(keys):
        add(_l("duplicate band keys"))
    for b in bands:
        if not isinstance(b.get("key"), str) or not KEY_RE.match(b["key"]):
            add(_l("every band needs a key (lower-case letters, digits, _)"))
        if not _bilingual(b.get("label")):
            add(_l("band %(band)s needs a label in zh and en", band=_name(b.get("key"))))
        if "interpretation" in b and not _bilingual(b["interpretation"]):
            add(_l("band %(band)s needs its interpretation in zh and en", band=_name(b.get("key"))))
    for key in sdef.get("alert_at_band") or []:
        if key not in keys:
            add(_l("alert_at_band names an unknown band %(band)s", band=_name(key)))
    rule = sdef.get("band_rule")
    rule_name = rule.get("name") if isinstance(rule, dict) else None
    if sdef.get("method") == "ipaq_short_2005" and sdef.get("output") == "category":
        rule_name = "ipaq_short_2005:category"
    if rule_name is not None:
        expected = RULE_BANDS.get(rule_name)
        if expected is None:
            add(_l("unknown band rule %(rule)s", rule=_name(rule_name)))
        elif set(keys) != set(expected):
            add(_l("the %(rule)s rule decides the bands %(bands)s", rule=rule_name, bands=", ".join(expected)))
        return
    if bands:
        _check_band_edges(defn, sdef, bands, add)


def _check_band_edges(defn: dict, sdef: dict, bands: list, add) -> None:
    integral = _integral(defn, sdef)
    edges = []
    for b in bands:
        low, high, below = b.get("min"), b.get("max"), b.get("lt")
        band = _name(b.get("key"))
        if not isinstance(low, int | float) or isinstance(low, bool):
            add(_l("band %(band)s needs a numeric min", band=band))
            return
        if (high is None) == (below is None):
            add(_l("band %(band)s needs either max (inclusive) or lt (exclusive)", band=band))
            return
        top = high if high is not None else below
        if not isinstance(top, int | float) or top < low or (below is not None and below == low):
            add(_l("band %(band)s ends below its start", band=band))
            return
        edges.append((low, high, below, b.get("key")))
    edges.sort(key=lambda e: e[0])
    for (_low1, high1, below1, key1), (low2, _h, _b, key2) in zip(edges, edges[1:]):
        if below1 is not None:
            expected_next = below1
        elif integral:
            expected_next = high1 + 1
        else:
            add(_l("band %(band)s ends with an inclusive max but the score is not a whole number; use lt for the "
                   "bands below the top one", band=_name(key1)))
            continue
        if low2 > expected_next:
            add(_l("gap between bands %(first)s and %(second)s", first=_name(key1), second=_name(key2)))
        elif low2 < expected_next:
            add(_l("bands %(first)s and %(second)s overlap", first=_name(key1), second=_name(key2)))
    span = score_range(defn, sdef)
    if span is not None:
        first, last = edges[0], edges[-1]
        top = last[1] if last[1] is not None else last[2]
        if first[0] > span[0] or (last[1] is not None and top < span[1]) or (last[2] is not None and top <= span[1]):
            add(_l("the bands do not cover every possible value (%(low)s to %(high)s)", low=f"{span[0]:g}",
                   high=f"{span[1]:g}"))


def _check_score(defn: dict, sdef: dict, score_keys: list[str], problems: list[Problem]) -> None:
    key = sdef.get("key")
    at = _score_at(key)

    def add(message: Any, field: str = "problems") -> None:
        problems.append(Problem(at, message, field))

    method = sdef.get("method")
    if method not in METHODS:
        add(_l("unknown method %(method)s", method=_name(method)))
        return
    if not _bilingual(sdef.get("label")):
        add(_l("the label needs both zh and en"))
    if method == "ipaq_short_2005":
        _check_ipaq_items(defn, sdef, add)
    elif not _check_items(defn, sdef, score_keys, add):
        return
    if "round" in sdef and (not isinstance(sdef["round"], int) or isinstance(sdef["round"], bool)):
        add(_l("round is a number of decimal places"))
    obs = sdef.get("observation")
    if obs is not None and (not isinstance(obs, dict) or not all(
        isinstance(obs.get(f), str) and obs[f] for f in ("code", "name_zh", "name_en", "unit")
    )):
        add(_l("the observation needs code, name_zh, name_en and unit"))
    _check_bands(defn, sdef, at, problems)


def _check_ipaq_items(defn: dict, sdef: dict, add) -> None:
    items = sdef.get("items")
    if not isinstance(items, dict) or set(items) != set(IPAQ_ITEMS):
        add(_l("the IPAQ method needs items for %(items)s", items=", ".join(IPAQ_ITEMS)), "items")
    else:
        by_key = questions_by_key(defn)
        for role, ref in items.items():
            if by_key.get(ref, {}).get("type") != "number":
                add(_l("item %(role)s names %(question)s, which is not a number question", role=role,
                       question=_name(ref)), "items")
    if sdef.get("output") not in ("met_total", "category"):
        add(_l("the IPAQ method's output is met_total or category"))


def _check_items(defn: dict, sdef: dict, score_keys: list[str], add) -> bool:
    """A method over a list of items: the items, reversal and band rule (False: no items to check further)."""
    items = sdef.get("items")
    if not isinstance(items, list) or not items:
        add(_l("needs a list of items"), "items")
        return False
    refs = _item_refs(defn, items)
    for ref in refs:
        resolved = resolve_ref(defn, ref) if isinstance(ref, str) else None
        if resolved is None:
            add(_l("names an unknown item %(item)s", item=_name(ref)), "items")
            continue
        question, row = resolved
        if not row and question.get("type") not in CHOICE_TYPES + ("number",):
            add(_l("item %(item)s is a %(type)s question, which has no score", item=_name(ref),
                   type=question.get("type")), "items")
        elif not row and question.get("type") != "number" and any(
            o.get("score") is None for o in question.get("options") or []
        ):
            add(_l("item %(item)s has options without a score", item=_name(ref)), "items")
    reverse = sdef.get("reverse")
    if reverse is not None:
        if not isinstance(reverse, dict) or not isinstance(reverse.get("max_plus_min"), int | float):
            add(_l("reverse needs items and max_plus_min"), "items")
        else:
            for ref in reverse.get("items") or []:
                if ref not in refs:
                    add(_l("reverse names %(item)s, which is not one of its items", item=_name(ref)), "items")
    rule = sdef.get("band_rule")
    if rule is not None:
        if not isinstance(rule, dict) or rule.get("name") not in BAND_RULES:
            add(_l("unknown band rule"), "bands")
        else:
            for other in rule.get("others") or []:
                if other not in score_keys or other == sdef.get("key"):
                    add(_l("the band rule names an unknown score %(score)s", score=_name(other)), "bands")
            if not rule.get("others"):
                add(_l("the band rule needs the other scores it compares"), "bands")
    return True


def check_definition(defn: dict) -> list[str]:
    """Structural problems in the reader's language, naming the section, question or score; [] when the
    definition is fine."""
    return [str(problem) for problem in definition_problems(defn)]


def definition_problems(defn: Any) -> list[Problem]:
    """Structural problems with what each concerns (see Problem); [] when the definition is fine."""
    problems: list[Problem] = []
    whole = At("")

    def add(message: Any) -> None:
        problems.append(Problem(whole, message))

    if not isinstance(defn, dict):
        return [Problem(whole, _l("the definition must be a JSON object"))]
    if not isinstance(defn.get("key"), str) or not KEY_RE.match(defn["key"]):
        add(_l("the key must be lower-case ascii letters, digits and _ (starting with a letter)"))
    if not isinstance(defn.get("version"), int) or isinstance(defn.get("version"), bool) or defn["version"] < 1:
        add(_l("the version must be a whole number from 1"))
    if defn.get("kind") not in KINDS:
        add(_l("the kind must be one of %(kinds)s", kinds=", ".join(KINDS)))
    if not _bilingual(defn.get("title")):
        add(_l("the title needs both zh and en"))
    if "description" in defn and not _bilingual(defn["description"]):
        add(_l("the description needs both zh and en"))
    sections = defn.get("sections")
    if not isinstance(sections, list) or not sections:
        add(_l("a questionnaire needs at least one section"))
        return problems
    _check_sections(defn, sections, problems)
    scores = defn.get("scores") or []
    score_keys = [str(s.get("key")) for s in scores if isinstance(s, dict)]
    if len(set(score_keys)) != len(score_keys):
        add(_l("duplicate score keys"))
    for sdef in scores:
        if not isinstance(sdef, dict) or not isinstance(sdef.get("key"), str) or not KEY_RE.match(sdef["key"]):
            add(_l("every score needs a key (lower-case letters, digits, _)"))
            continue
        _check_score(defn, sdef, score_keys, problems)
    _check_flags(defn, problems)
    return problems


def _check_sections(defn: dict, sections: list, problems: list[Problem]) -> None:
    seen_sections: set[str] = set()
    seen_questions: set[str] = set()
    for section in sections:
        if not isinstance(section, dict):
            problems.append(Problem(At(""), _l("every section must be an object")))
            continue
        skey = section.get("key")
        at = _section_at(skey)
        if not isinstance(skey, str) or not KEY_RE.match(skey):
            problems.append(Problem(at, _l("the key must be lower-case letters, digits and _")))
        elif skey in seen_sections:
            problems.append(Problem(at, _l("duplicate section key")))
        seen_sections.add(str(skey))
        if not _bilingual(section.get("title")):
            problems.append(Problem(at, _l("the title needs both zh and en")))
        if section.get("show_if") is not None:
            show_if_at = At(at.target, _l("section %(section)s show_if", section=_name(skey)))
            _check_condition(defn, section["show_if"], show_if_at, set(seen_questions), problems)
        questions = section.get("questions")
        if not isinstance(questions, list) or not questions:
            problems.append(Problem(at, _l("needs at least one question")))
            continue
        for q in questions:
            if not isinstance(q, dict):
                problems.append(Problem(at, _l("every question must be an object")))
                continue
            qkey = q.get("key")
            if not isinstance(qkey, str) or not KEY_RE.match(qkey):
                problems.append(Problem(_question_at(skey, qkey), _l("the key must be lower-case letters, digits "
                                                                      "and _")))
            elif qkey in seen_questions:
                problems.append(Problem(_question_at(skey, qkey), _l("duplicate question key")))
            _check_question(defn, skey, q, set(seen_questions), problems)
            seen_questions.add(str(qkey))


def _check_flags(defn: dict, problems: list[Problem]) -> None:
    """Flags are shown with the definition's own problems (target "")."""
    flag_keys: set[str] = set()
    for flag in defn.get("flags") or []:
        fkey = flag.get("key") if isinstance(flag, dict) else None
        at = At("", _l("flag %(flag)s", flag=_name(fkey)))
        if not isinstance(fkey, str) or not KEY_RE.match(fkey) or fkey in flag_keys:
            problems.append(Problem(at, _l("needs a unique key (lower-case letters, digits, _)")))
            continue
        flag_keys.add(fkey)
        if flag.get("level") not in FLAG_LEVELS:
            problems.append(Problem(at, _l("the level must be one of %(levels)s", levels=", ".join(FLAG_LEVELS))))
        if not _bilingual(flag.get("message")):
            problems.append(Problem(at, _l("the message needs both zh and en")))
        _check_condition(defn, flag.get("when"), at, None, problems)
