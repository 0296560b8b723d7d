"""Condition sources: what a tag rule can ask about a patient.

A rule's condition is a JSON tree: a group ``{"op": "and"|"or", "items": [...]}``
whose items are groups or leaves; a leaf names its ``source``. Each source is a
class in ``SOURCES`` that knows its form fields, checks a leaf, compiles it to
SQL (through app.tagging.compiler) and explains the values that met it.
Questionnaire scores or risk levels join later as one more class each;
the engine, the form and the evaluation do not change.
"""
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import ColumnElement

from app.core import clock

CMP = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "=", "!=": "≠"}
FLAGS = ("H", "HH", "L", "LL", "A")
MAX_LEAVES = 20


class RuleError(ValueError):
    """Bad rule input; ``errors`` maps form field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Compiled:
    """A compiled leaf: a boolean SQL test and the columns worth keeping as evidence."""

    test: ColumnElement[bool]
    evidence: dict = field(default_factory=dict)


def number(text) -> float | None:
    try:
        value = float(str(text).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) < 1e12 else None


def integer(text) -> int | None:
    value = number(text)
    return int(value) if value is not None and value == int(value) else None


def fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def compare(expr, cmp: str, value):
    return {">=": expr >= value, ">": expr > value, "<=": expr <= value, "<": expr < value,
            "=": expr == value, "!=": expr != value}[cmp]


def _when(value) -> str:
    """An evidence timestamp (ISO text from either database, UTC) as the clinic's date."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace(" ", "T"))
    except ValueError:
        return str(value)[:10]
    return clock.local_date(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


class Source:
    key = ""
    label = ""
    fields: tuple[str, ...] = ()

    @property
    def template(self) -> str:
        return f"tagging/conditions/_{self.key}.html"

    def from_form(self, raw: dict) -> dict:
        leaf = {"source": self.key}
        for name in self.fields:
            leaf[name] = raw.get(name, [] if name == "flags" else "")
        return leaf

    def to_form(self, leaf: dict) -> dict:
        return {name: ("" if leaf.get(name) is None else leaf.get(name)) for name in self.fields} | {
            "source": self.key}

    def validate(self, leaf: dict, indicators: dict) -> dict:
        """The leaf with typed values; raises RuleError keyed by field name."""
        raise NotImplementedError

    def bounds(self, leaf: dict, indicators: dict):
        """(what is compared, operator, number) for the contradiction check, or None."""
        return None

    def compile(self, leaf: dict, compiler) -> Compiled:
        raise NotImplementedError

    def describe(self, leaf: dict, indicators: dict) -> str:
        raise NotImplementedError

    def explain(self, leaf: dict, evidence: dict, indicators: dict) -> str:
        return self.describe(leaf, indicators)

    def _cmp(self, leaf: dict, errors: dict) -> str:
        if leaf.get("cmp") not in CMP:
            errors["cmp"] = _("Please choose a comparison.")
        return leaf.get("cmp", "")


# Built-in sources register themselves (app.tagging.sources, imported below).
SOURCES: dict[str, "Source"] = {}


def register(source: Source) -> None:
    """Add a condition source (questionnaire scores, risk levels, ...)."""
    SOURCES[source.key] = source


# ------------------------------------------------------------------- trees

def is_group(node: dict) -> bool:
    return "items" in node


def leaves(node: dict) -> list[dict]:
    """Leaves depth first: their position is their evidence key (c0, c1, ...)."""
    if is_group(node):
        return [leaf for item in node["items"] for leaf in leaves(item)]
    return [node]


def _intervals_clash(constraints: list[tuple[str, float]]) -> bool:
    low, low_incl, high, high_incl, equal, unequal = None, True, None, True, set(), set()
    for cmp, value in constraints:
        if cmp in (">", ">="):
            if low is None or value > low or (value == low and cmp == ">"):
                low, low_incl = value, cmp == ">="
        elif cmp in ("<", "<="):
            if high is None or value < high or (value == high and cmp == "<"):
                high, high_incl = value, cmp == "<="
        elif cmp == "=":
            equal.add(value)
        else:
            unequal.add(value)
    if len(equal) > 1:
        return True
    if low is not None and high is not None and (low > high or (low == high and not (low_incl and high_incl))):
        return True
    for value in equal:
        if value in unequal or (low is not None and (value < low or (value == low and not low_incl))) \
                or (high is not None and (value > high or (value == high and not high_incl))):
            return True
    return False


def contradictions(node: dict, indicators: dict, path: str = "") -> dict[int, str]:
    """Leaves (by depth-first position) that no value can satisfy together
    with an earlier leaf of the same AND group, e.g. > 10 AND < 5."""
    found: dict[int, str] = {}
    counter = iter(range(10_000))

    def walk(group: dict) -> None:
        seen: dict[tuple, list[tuple[str, float]]] = {}
        first: dict[tuple, int] = {}
        for item in group["items"]:
            if is_group(item):
                walk(item)
                continue
            position = next(counter)
            if group.get("op") != "and":
                continue
            bound = SOURCES[item["source"]].bounds(item, indicators)
            if bound is None:
                continue
            key, cmp, value = bound
            seen.setdefault(key, []).append((cmp, value))
            first.setdefault(key, position)
            if _intervals_clash(seen[key]):
                found[position] = _("This contradicts condition %(n)d of the same “all of” group: no value meets both.",
                                    n=first[key] + 1)
                seen[key].pop()
    walk(node)
    return found


def describe(node: dict, indicators: dict) -> str:
    if not is_group(node):
        return SOURCES[node["source"]].describe(node, indicators)
    joiner = _(" and ") if node.get("op") == "and" else _(" or ")
    parts = [describe(item, indicators) for item in node["items"]]
    text = joiner.join(f"({p})" if is_group(item) and len(item["items"]) > 1 else p
                       for p, item in zip(parts, node["items"]))
    return text


def explain(node: dict, evidence: dict, indicators: dict) -> list[str]:
    """Sentences for the leaves that held, with the values that met them."""
    lines = []
    for position, leaf in enumerate(leaves(node)):
        facts = (evidence or {}).get(f"c{position}") or {}
        if facts.get("ok"):
            source = SOURCES.get(leaf.get("source") or "")
            if source is not None:
                lines.append(f"{source.describe(leaf, indicators)}: {source.explain(leaf, facts, indicators)}"
                             if source.key == "indicator" else source.explain(leaf, facts, indicators))
    return lines


def validate_tree(node: dict, indicators: dict) -> tuple[dict, dict[int, dict[str, str]]]:
    """Type and check every leaf; return the clean tree and the problems by
    leaf position (depth first) and field name. Contradictions are checked
    once every leaf is valid."""
    problems: dict[int, dict[str, str]] = {}
    counter = iter(range(10_000))

    def clean(item: dict) -> dict:
        if is_group(item):
            return {"op": "or" if item.get("op") == "or" else "and", "items": [clean(i) for i in item["items"]]}
        position = next(counter)
        source = SOURCES.get(item.get("source") or "")
        if source is None:
            problems[position] = {"source": _("Please choose what the condition is about.")}
            return item
        try:
            return source.validate(item, indicators)
        except RuleError as exc:
            problems[position] = exc.errors
            return item

    tree = clean(node)
    if not problems:
        for position, message in contradictions(tree, indicators).items():
            problems[position] = {"value": message}
    return tree, problems


from app.tagging import sources as _builtin_sources  # noqa: E402,F401  (fills SOURCES)
