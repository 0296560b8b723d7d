"""The scoring engine: runs the scores and flags a definition declares.

Methods (declared per score in the pack):
- sum: the items' option scores added; "reverse": {"items": [...], "max_plus_min": m} scores those items m − answer.
- mean: the items' mean; "transform": "percent" rescales it to 0–100 over the options' lowest..highest score.
- converted: (raw − n·low) / (n·(high − low)) × 100 over the n items that apply (shown), which with options
  scored 1–5 is the TCM constitution standard's (raw − n) / (4n) × 100 (ZYYXH/T157-2009), reverse items as in sum.
- count: how many items score at least "at_least" (default 1).
- ipaq_short_2005: the IPAQ short form's scoring protocol ("Guidelines for Data Processing and Analysis of the
  International Physical Activity Questionnaire (IPAQ) – Short and Long Forms", November 2005): MET-minutes/week =
  MET × minutes/day × days with walking 3.3, moderate 4.0, vigorous 8.0 METs; minutes/day above 180 are truncated
  to 180 for each intensity; a case whose walking + moderate + vigorous minutes/day add up to more than 960 is
  excluded (no score); "output": "met_total" gives the total, "category" the low/moderate/high category.
Items a branch hides do not apply (they are not counted and not missing); a shown item left unanswered makes the
score None and is named in `missing`.

Bands are inclusive of "min" and of "max" ("lt" is an exclusive top for scores that are not whole numbers); a
"band_rule" decides a band from other scores instead (tcm_balanced: the balanced-type rule of the TCM standard).
Values are rounded half up to "round" decimal places after banding.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.questionnaires.branching import evaluate, visible_questions
from app.questionnaires.schema import answer_of, option_score, questions_by_key, resolve_ref
from app.questionnaires.validation import clean_answers

IPAQ_MET = {"walk": 3.3, "mod": 4.0, "vig": 8.0}
IPAQ_TRUNCATE_MINUTES = 180
IPAQ_EXCLUDE_ABOVE_MINUTES = 960


@dataclass(frozen=True)
class Score:
    key: str
    label: dict
    value: float | None
    band: str | None
    band_label: dict
    interpretation: dict
    observation: dict | None
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    key: str
    level: str
    message: dict


@dataclass(frozen=True)
class Result:
    scores: tuple[Score, ...]
    flags: tuple[Flag, ...]


@dataclass
class _Raw:
    value: float | None
    missing: tuple[str, ...] = ()
    band: str | None = None  # decided by the method itself (IPAQ category)
    note: dict | None = None  # why there is no value although nothing is missing


def round_half_up(value: float, places: int) -> float:
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def band_for(sdef: dict, value: float | None) -> dict | None:
    """The band of a value-banded score that holds this value (min ≤ v ≤ max, or min ≤ v < lt)."""
    if value is None:
        return None
    for band in sdef.get("bands") or []:
        if "min" not in band:
            continue
        if band.get("max") is not None and band["min"] <= value <= band["max"]:
            return band
        if band.get("lt") is not None and band["min"] <= value < band["lt"]:
            return band
    return None


def _item_scores(defn: dict, sdef: dict, answers: dict, shown: set[str]) -> tuple[list[tuple[str, float]], list[str]]:
    """(ref, score) for each item that applies and is answered; the refs of those shown but unanswered."""
    by_key = questions_by_key(defn)
    reverse = sdef.get("reverse") or {}
    reversed_refs = set(reverse.get("items") or [])
    refs: list[str] = []
    for ref in sdef.get("items") or []:
        question = by_key.get(ref)
        if question is not None and question.get("type") == "matrix":
            refs.extend(f"{ref}.{r['key']}" for r in question.get("rows") or [])
        else:
            refs.append(ref)
    scored: list[tuple[str, float]] = []
    missing: list[str] = []
    for ref in refs:
        if ref.partition(".")[0] not in shown:
            continue
        resolved = resolve_ref(defn, ref, by_key)
        value = answer_of(answers, ref)
        if resolved is None or value is None:
            missing.append(ref)
            continue
        question, _row = resolved
        if question.get("type") == "number":
            item: float | None = value
        elif isinstance(value, list):
            item = sum(option_score(question, code) or 0 for code in value)
        else:
            item = option_score(question, value)
        if item is None:
            missing.append(ref)
            continue
        if ref in reversed_refs:
            item = reverse["max_plus_min"] - item
        scored.append((ref, item))
    return scored, missing


def _option_span(defn: dict, sdef: dict) -> tuple[float, float]:
    ref = (sdef.get("items") or [""])[0]
    resolved = resolve_ref(defn, ref)
    scores = [o["score"] for o in (resolved[0].get("options") or []) if o.get("score") is not None] if resolved else []
    return (min(scores), max(scores)) if scores else (0.0, 1.0)


def _ipaq(defn: dict, sdef: dict, answers: dict) -> _Raw:
    items = sdef["items"]
    missing: list[str] = []
    days: dict[str, int] = {}
    minutes: dict[str, float] = {}
    for kind in ("vig", "mod", "walk"):
        day_ref, minute_ref = items[f"{kind}_days"], items[f"{kind}_minutes"]
        day_value = answers.get(day_ref)
        if day_value is None:
            missing.append(day_ref)
            continue
        days[kind] = int(day_value)
        if days[kind] == 0:
            minutes[kind] = 0
            continue
        minute_value = answers.get(minute_ref)
        if minute_value is None:
            missing.append(minute_ref)
            continue
        minutes[kind] = minute_value
    if missing:
        return _Raw(None, tuple(missing))
    # Exclusion first, on the minutes as reported: more than 16 hours a day of activity is not plausible.
    if sum(minutes.values()) > IPAQ_EXCLUDE_ABOVE_MINUTES:
        return _Raw(None, (), note=sdef.get("excluded_message"))
    capped = {kind: min(m, IPAQ_TRUNCATE_MINUTES) for kind, m in minutes.items()}
    met = {kind: IPAQ_MET[kind] * capped[kind] * days[kind] for kind in days}
    total = sum(met.values())
    if sdef.get("output") == "met_total":
        return _Raw(total)
    total_days = sum(days.values())
    if (days["vig"] >= 3 and total >= 1500) or (total_days >= 7 and total >= 3000):
        category = "high"
    elif (
        (days["vig"] >= 3 and capped["vig"] >= 20)
        or (days["mod"] * (capped["mod"] >= 30) + days["walk"] * (capped["walk"] >= 30)) >= 5
        or (total_days >= 5 and total >= 600)
    ):
        category = "moderate"
    else:
        category = "low"
    return _Raw(None, (), band=category)


def _raw(defn: dict, sdef: dict, answers: dict, shown: set[str]) -> _Raw:
    method = sdef["method"]
    if method == "ipaq_short_2005":
        return _ipaq(defn, sdef, answers)
    scored, missing = _item_scores(defn, sdef, answers, shown)
    if missing:
        return _Raw(None, tuple(missing))
    values = [v for _, v in scored]
    if not values:
        return _Raw(None, ())
    if method == "sum":
        return _Raw(float(sum(values)))
    if method == "count":
        return _Raw(float(sum(1 for v in values if v >= sdef.get("at_least", 1))))
    low, high = _option_span(defn, sdef)
    if method == "mean":
        mean = sum(values) / len(values)
        if sdef.get("transform") == "percent":
            mean = (mean - low) / (high - low) * 100
        return _Raw(mean)
    if method == "converted":
        n = len(values)
        return _Raw((sum(values) - n * low) / (n * (high - low)) * 100)
    raise ValueError(f"unknown score method {method!r}")


def tcm_balanced(raw: float | None, others: list[float | None]) -> str | None:
    """ZYYXH/T157-2009: balanced type "yes" if its converted score ≥ 60 and every other type < 30, "basically yes"
    if ≥ 60 and every other < 40, otherwise "no"."""
    if raw is None or any(o is None for o in others):
        return None
    if raw >= 60 and all(o < 30 for o in others if o is not None):
        return "yes"
    if raw >= 60 and all(o < 40 for o in others if o is not None):
        return "basically_yes"
    return "no"


def score(defn: dict, answers: dict) -> Result:
    cleaned = clean_answers(defn, answers)
    shown = set(visible_questions(defn, cleaned))
    raws = {sdef["key"]: _raw(defn, sdef, cleaned, shown) for sdef in defn.get("scores") or []}
    scores = []
    for sdef in defn.get("scores") or []:
        raw = raws[sdef["key"]]
        missing = raw.missing
        rule = sdef.get("band_rule")
        band_key: str | None
        if raw.band is not None:
            band_key = raw.band
        elif rule and rule.get("name") == "tcm_balanced":
            others = [raws[k] for k in rule["others"]]
            band_key = tcm_balanced(raw.value, [o.value for o in others])
            if band_key is None:
                missing = tuple(dict.fromkeys(missing + tuple(m for o in others for m in o.missing)))
        else:
            found = band_for(sdef, raw.value)
            band_key = found["key"] if found else None
        band = next((b for b in sdef.get("bands") or [] if b["key"] == band_key), None)
        value = raw.value
        if value is not None and "round" in sdef:
            value = round_half_up(value, sdef["round"])
        interpretation = dict(band.get("interpretation") or {}) if band else dict(raw.note or {})
        scores.append(Score(
            key=sdef["key"],
            label=dict(sdef["label"]),
            value=value,
            band=band_key,
            band_label=dict(band["label"]) if band else {},
            interpretation=interpretation,
            observation=dict(sdef["observation"]) if sdef.get("observation") else None,
            missing=missing,
        ))
    flags = tuple(
        Flag(key=f["key"], level=f["level"], message=dict(f["message"]))
        for f in defn.get("flags") or []
        if evaluate(defn, f["when"], cleaned)
    )
    return Result(scores=tuple(scores), flags=flags)


def history_proposals(defn: dict, answers: dict) -> list[dict]:
    """Intake answers as proposed health-history updates for staff to confirm: lifestyle fields carry the code
    Patient stores (smoking/alcohol/exercise), list-like items one proposal per entered line with field
    "history:<kind>" and the line as the HealthHistoryItem description (at most 200 characters)."""
    cleaned = clean_answers(defn, answers)
    proposals: list[dict] = []
    for _section, question in _shown_questions(defn, cleaned):
        field = question.get("history_field")
        value: Any = cleaned.get(question["key"])
        if not field or value is None:
            continue
        if field.startswith("history:"):
            for line in str(value).splitlines():
                line = line.strip().lstrip("-•·*").strip()
                if line:
                    proposals.append({"field": field, "value": line[:200], "question": question["key"]})
        else:
            proposals.append({"field": field, "value": value, "question": question["key"]})
    return proposals


def _shown_questions(defn: dict, cleaned: dict) -> list[tuple[dict, dict]]:
    shown = set(visible_questions(defn, cleaned))
    return [
        (section, question)
        for section in defn.get("sections") or []
        for question in section.get("questions") or []
        if question["key"] in shown
    ]
