"""Point scores (FINDRISC, the new Chinese Diabetes Risk Score): each item
gives points from its ranges (by sex where the item says ``by``), from a
choice, or for yes/no; the score is their sum. Contributions are each
input's points."""
from app.risk.ranges import item_ranges, pick


def compute(definition: dict, values: dict) -> tuple[int, dict]:
    points = {item["input"]: _points(item, values) for item in definition["model"]["items"]}
    return sum(points.values()), points


def _points(item: dict, values: dict) -> int:
    value = values[item["input"]]
    if "choices" in item:
        return item["choices"][value]
    if "if_true" in item:
        return item["if_true"] if value else item["if_false"]
    return pick(item_ranges(item, values), value)["points"]
