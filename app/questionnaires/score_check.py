"""The structural check of a definition's scoring declarations: methods, items, reversal, band rules and
band edges (the engine that runs them is scoring.py)."""
from typing import Any

from flask_babel import lazy_gettext as _l

from app.questionnaires.problems import At, Problem, bilingual, quoted, score_at
from app.questionnaires.schema import CHOICE_TYPES, KEY_RE, questions_by_key, resolve_ref

# Score methods the engine implements (app/questionnaires/scoring.py); rule-banded ones decide their band themselves.
METHODS = ("sum", "mean", "converted", "count", "ipaq_short_2005")
BAND_RULES = ("tcm_balanced",)
RULE_BANDS = {"tcm_balanced": ("yes", "basically_yes", "no"), "ipaq_short_2005:category": ("low", "moderate", "high")}
IPAQ_ITEMS = ("vig_days", "vig_minutes", "mod_days", "mod_minutes", "walk_days", "walk_minutes")


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
        if not bilingual(b.get("label")):
            add(_l("band %(band)s needs a label in zh and en", band=quoted(b.get("key"))))
        if "interpretation" in b and not bilingual(b["interpretation"]):
            add(_l("band %(band)s needs its interpretation in zh and en", band=quoted(b.get("key"))))
    for key in sdef.get("alert_at_band") or []:
        if key not in keys:
            add(_l("alert_at_band names an unknown band %(band)s", band=quoted(key)))
    rule = sdef.get("band_rule")
    rule_name = rule.get("name") if isinstance(rule, dict) else None
    if sdef.get("method") == "ipaq_short_2005" and sdef.get("output") == "category":
        rule_name = "ipaq_short_2005:category"
    if rule_name is not None:
        expected = RULE_BANDS.get(rule_name)
        if expected is None:
            add(_l("unknown band rule %(rule)s", rule=quoted(rule_name)))
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
        band = quoted(b.get("key"))
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
                   "bands below the top one", band=quoted(key1)))
            continue
        if low2 > expected_next:
            add(_l("gap between bands %(first)s and %(second)s", first=quoted(key1), second=quoted(key2)))
        elif low2 < expected_next:
            add(_l("bands %(first)s and %(second)s overlap", first=quoted(key1), second=quoted(key2)))
    span = score_range(defn, sdef)
    if span is not None:
        first, last = edges[0], edges[-1]
        top = last[1] if last[1] is not None else last[2]
        if first[0] > span[0] or (last[1] is not None and top < span[1]) or (last[2] is not None and top <= span[1]):
            add(_l("the bands do not cover every possible value (%(low)s to %(high)s)", low=f"{span[0]:g}",
                   high=f"{span[1]:g}"))


def check_score(defn: dict, sdef: dict, score_keys: list[str], problems: list[Problem]) -> None:
    key = sdef.get("key")
    at = score_at(key)

    def add(message: Any, field: str = "problems") -> None:
        problems.append(Problem(at, message, field))

    method = sdef.get("method")
    if method not in METHODS:
        add(_l("unknown method %(method)s", method=quoted(method)))
        return
    if not bilingual(sdef.get("label")):
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
                       question=quoted(ref)), "items")
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
            add(_l("names an unknown item %(item)s", item=quoted(ref)), "items")
            continue
        question, row = resolved
        if not row and question.get("type") not in CHOICE_TYPES + ("number",):
            add(_l("item %(item)s is a %(type)s question, which has no score", item=quoted(ref),
                   type=question.get("type")), "items")
        elif not row and question.get("type") != "number" and any(
            o.get("score") is None for o in question.get("options") or []
        ):
            add(_l("item %(item)s has options without a score", item=quoted(ref)), "items")
    reverse = sdef.get("reverse")
    if reverse is not None:
        if not isinstance(reverse, dict) or not isinstance(reverse.get("max_plus_min"), int | float):
            add(_l("reverse needs items and max_plus_min"), "items")
        else:
            for ref in reverse.get("items") or []:
                if ref not in refs:
                    add(_l("reverse names %(item)s, which is not one of its items", item=quoted(ref)), "items")
    rule = sdef.get("band_rule")
    if rule is not None:
        if not isinstance(rule, dict) or rule.get("name") not in BAND_RULES:
            add(_l("unknown band rule"), "bands")
        else:
            for other in rule.get("others") or []:
                if other not in score_keys or other == sdef.get("key"):
                    add(_l("the band rule names an unknown score %(score)s", score=quoted(other)), "bands")
            if not rule.get("others"):
                add(_l("the band rule needs the other scores it compares"), "bands")
    return True
