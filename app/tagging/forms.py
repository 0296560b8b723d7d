"""The rule form: top-level fields through Flask-WTF, the condition groups as
numbered fields (``g0-op``, ``g0-c1-value``) parsed here, so htmx can add,
remove and reshape rows by posting the form back and rendering it again."""
import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.tagging import conditions

_LEAF = re.compile(r"^g(\d+)-c(\d+)-source$")
_GROUP = re.compile(r"^g(\d+)-op$")
OPS = {"and": _l("all of"), "or": _l("any of")}


class RuleForm(FlaskForm):
    name = StringField(_l("Rule name"), validators=[Optional(), Length(max=80)])
    tag = StringField(_l("Tag it applies"), validators=[Optional(), Length(max=40)])
    op = SelectField(_l("A patient gets the tag when"), choices=[("and", _l("all groups hold")),
                                                                 ("or", _l("any group holds"))])
    active = BooleanField(_l("Active"), default=True)
    source = TextAreaField(_l("Source of the thresholds, notes"), validators=[Optional(), Length(max=2000)])
    confirm = BooleanField(_l("Yes, save this rule although it tags nearly every patient"))


@dataclass
class Group:
    op: str = "and"
    leaves: list[dict] = field(default_factory=list)


def blank_leaf(source: str = "indicator") -> dict:
    leaf = {"source": source, "measure": "latest", "cmp": ">="} if source == "indicator" else {"source": source}
    if source == "history":
        leaf["present"] = "1"
    return leaf


def parse(formdata) -> list[Group]:
    """The groups and leaves as posted (strings kept for re-display)."""
    groups: dict[int, Group] = {}
    for key in formdata:
        if match := _GROUP.match(key):
            groups.setdefault(int(match.group(1)), Group(op="or" if formdata.get(key) == "or" else "and"))
    leaves: dict[tuple[int, int], dict] = {}
    for key in formdata:
        if match := _LEAF.match(key):
            i, j = int(match.group(1)), int(match.group(2))
            source = conditions.SOURCES.get(formdata.get(key)) or conditions.SOURCES["indicator"]
            prefix = f"g{i}-c{j}-"
            raw = {name: (formdata.getlist(prefix + name) if name == "flags" else formdata.get(prefix + name, ""))
                   for name in source.fields}
            leaves[(i, j)] = source.from_form(raw)
            groups.setdefault(i, Group())
    for (i, _j), leaf in sorted(leaves.items()):
        groups[i].leaves.append(leaf)
    return [groups[i] for i in sorted(groups)]


def apply_action(groups: list[Group], action: str) -> list[Group]:
    """add-group, add-cond-<g>, del-cond-<g>-<c>, del-group-<g>; anything else changes nothing."""
    parts = action.split("-")
    numbers = [int(p) for p in parts if p.isdecimal() and len(p) < 10]
    if action == "add-group":
        groups.append(Group(leaves=[blank_leaf()]))
    elif action.startswith("add-cond-") and numbers and numbers[0] < len(groups):
        groups[numbers[0]].leaves.append(blank_leaf())
    elif action.startswith("del-cond-") and len(numbers) == 2 and numbers[0] < len(groups):
        leaves = groups[numbers[0]].leaves
        if numbers[1] < len(leaves):
            leaves.pop(numbers[1])
        if not leaves:
            groups.pop(numbers[0])
    elif action.startswith("del-group-") and numbers and numbers[0] < len(groups):
        groups.pop(numbers[0])
    return groups


def to_tree(op: str, groups: list[Group]) -> dict:
    return {"op": "or" if op == "or" else "and",
            "items": [{"op": g.op, "items": list(g.leaves)} for g in groups]}


def from_tree(tree: dict) -> tuple[str, list[Group]]:
    """A stored tree as form groups: leaves directly under the top become one group."""
    groups, loose = [], []
    for item in tree.get("items", []):
        if conditions.is_group(item):
            groups.append(Group(item.get("op", "and"), [_form_leaf(i) for i in conditions.leaves(item)]))
        else:
            loose.append(_form_leaf(item))
    if loose:
        groups.insert(0, Group(tree.get("op", "and"), loose))
    return tree.get("op", "and"), groups


def _form_leaf(leaf: dict) -> dict:
    source = conditions.SOURCES.get(leaf.get("source") or "")
    return source.to_form(leaf) if source else dict(leaf)


def leaf_errors_by_field(groups: list[Group], leaf_errors: dict[int, dict[str, str]]) -> dict[str, str]:
    """Problems by leaf position -> problems by form field name (g0-c1-value)."""
    named, position = {}, 0
    for i, group in enumerate(groups):
        for j, _leaf in enumerate(group.leaves):
            for name, message in leaf_errors.get(position, {}).items():
                named[f"g{i}-c{j}-{name}"] = message
            position += 1
    return named
