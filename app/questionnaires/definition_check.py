"""The structural check of a definition: its header, sections, questions, show_if conditions and flags (the
scores are checked in score_check.py)."""
import re
from typing import Any

from flask_babel import lazy_gettext as _l

from app.questionnaires.problems import At, Problem, bilingual, question_at, quoted, section_at
from app.questionnaires.schema import CHOICE_TYPES, COMPARISONS, FLAG_LEVELS, KEY_RE, KINDS, OPS, TYPES, resolve_ref
from app.questionnaires.score_check import check_score

# Health-history fields an intake question may propose (app/patients/models.py keeps the same values;
# tests/questionnaires check they agree).
LIFESTYLE_FIELDS = {
    "smoking": ("never", "former", "current"),
    "alcohol": ("none", "occasional", "regular"),
    "exercise": ("none", "occasional", "regular"),
}
HISTORY_KINDS = ("illness", "surgery", "allergy", "family", "medication")


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
    if not bilingual(defn.get("title")):
        add(_l("the title needs both zh and en"))
    if "description" in defn and not bilingual(defn["description"]):
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
        check_score(defn, sdef, score_keys, problems)
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
        at = section_at(skey)
        if not isinstance(skey, str) or not KEY_RE.match(skey):
            problems.append(Problem(at, _l("the key must be lower-case letters, digits and _")))
        elif skey in seen_sections:
            problems.append(Problem(at, _l("duplicate section key")))
        seen_sections.add(str(skey))
        if not bilingual(section.get("title")):
            problems.append(Problem(at, _l("the title needs both zh and en")))
        if section.get("show_if") is not None:
            show_if_at = At(at.target, _l("section %(section)s show_if", section=quoted(skey)))
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
                problems.append(Problem(question_at(skey, qkey), _l("the key must be lower-case letters, digits "
                                                                      "and _")))
            elif qkey in seen_questions:
                problems.append(Problem(question_at(skey, qkey), _l("duplicate question key")))
            _check_question(defn, skey, q, set(seen_questions), problems)
            seen_questions.add(str(qkey))


def _check_flags(defn: dict, problems: list[Problem]) -> None:
    """Flags are shown with the definition's own problems (target "")."""
    flag_keys: set[str] = set()
    for flag in defn.get("flags") or []:
        fkey = flag.get("key") if isinstance(flag, dict) else None
        at = At("", _l("flag %(flag)s", flag=quoted(fkey)))
        if not isinstance(fkey, str) or not KEY_RE.match(fkey) or fkey in flag_keys:
            problems.append(Problem(at, _l("needs a unique key (lower-case letters, digits, _)")))
            continue
        flag_keys.add(fkey)
        if flag.get("level") not in FLAG_LEVELS:
            problems.append(Problem(at, _l("the level must be one of %(levels)s", levels=", ".join(FLAG_LEVELS))))
        if not bilingual(flag.get("message")):
            problems.append(Problem(at, _l("the message needs both zh and en")))
        _check_condition(defn, flag.get("when"), at, None, problems)


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
        add(_l("unknown operator %(op)s", op=quoted(op)))
    if not isinstance(ref, str) or resolve_ref(defn, ref) is None:
        add(_l("the condition names an unknown question %(question)s", question=quoted(ref)))
        return
    if earlier is not None and ref.partition(".")[0] not in earlier:
        add(_l("the condition names question %(question)s, which does not come before it", question=quoted(ref)))
    if op == "in" and not isinstance(cond.get("value"), list):
        add(_l("'in' needs a list of values"))
    if op in COMPARISONS and (isinstance(cond.get("value"), bool) or not isinstance(cond.get("value"), int | float)):
        add(_l("%(op)s needs a number", op=quoted(op)))
    if op in ("eq", "ne", "in"):
        question, row = resolve_ref(defn, ref)  # type: ignore[misc]
        values = cond.get("value") if op == "in" else [cond.get("value")]
        codes = {o.get("code") for o in question.get("options") or []}
        if (row or question.get("type") in CHOICE_TYPES) and isinstance(values, list):
            for v in values:
                if v not in codes:
                    add(_l("%(value)s is not an option code of question %(question)s", value=quoted(v),
                           question=quoted(ref)))
        is_yesno = question.get("type") == "yesno"
        if is_yesno and isinstance(values, list) and not all(isinstance(v, bool) for v in values):
            add(_l("a yes/no question is compared with true or false"))


def _check_question(defn: dict, section_key: Any, q: dict, earlier: set[str], problems: list[Problem]) -> None:
    at = question_at(section_key, q.get("key"))

    def add(message: Any, field: str = "problems") -> None:
        problems.append(Problem(at, message, field))

    qtype = q.get("type")
    if qtype not in TYPES:
        add(_l("unknown type %(type)s", type=quoted(qtype)))
        return
    if not bilingual(q.get("text")):
        add(_l("the text needs both zh and en"), "text_zh")
    if "help" in q and not bilingual(q["help"]):
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
                if not bilingual(r.get("text")):
                    add(_l("row %(row)s needs text in zh and en", row=quoted(r.get("key"))), "rows")
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
            if "pattern_message" in q and not bilingual(q["pattern_message"]):
                add(_l("the pattern message needs both zh and en"), "pattern")
    if q.get("show_if") is not None:
        show_if_at = At(at.target, _l("question %(question)s in section %(section)s show_if",
                                      question=quoted(q.get("key")), section=quoted(section_key)))
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
        if not bilingual(o.get("label")):
            add(_l("option %(option)s needs a label in zh and en", option=quoted(o.get("code"))), "options")
        score = o.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            add(_l("option %(option)s has a score that is not a number", option=quoted(o.get("code"))), "options")


def _check_history_field(q: dict, add) -> None:
    field = q.get("history_field")
    if field is None:
        return
    qtype = q.get("type")
    if field in LIFESTYLE_FIELDS:
        if qtype != "single":
            add(_l("history field %(field)s needs a single-choice question", field=quoted(field)))
            return
        allowed = LIFESTYLE_FIELDS[field]
        for o in q.get("options") or []:
            if o.get("code") not in allowed:
                add(_l("option %(option)s is not a %(field)s value (%(allowed)s)", option=quoted(o.get("code")),
                       field=field, allowed=", ".join(allowed)), "options")
    elif isinstance(field, str) and field.startswith("history:") and field[8:] in HISTORY_KINDS:
        if qtype not in ("text", "textarea"):
            add(_l("history field %(field)s needs a text question (one item a line)", field=quoted(field)))
    else:
        add(_l("unknown history field %(field)s", field=quoted(field)))
