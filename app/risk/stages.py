"""Categories read off one or more measurements (weight status, central
obesity, blood-pressure category, albuminuria): each input falls in a band
of its ranges, and the highest of those bands in the model's band order is
the result (the blood-pressure 'and/or' rule). Contributions are the band
each input alone falls in. The value is the measurement itself, or the
measurements joined by '/' (systolic/diastolic)."""
from app.risk.ranges import item_ranges, pick


def compute(definition: dict, values: dict) -> tuple[float | str, dict, str]:
    order = [band["code"] for band in definition["bands"]]
    per_input = {item["input"]: pick(item_ranges(item, values), values[item["input"]])["band"]
                 for item in definition["model"]["items"]}
    band = max(per_input.values(), key=order.index)
    shown = [values[name] for name in definition["model"]["value_from"]]
    value = shown[0] if len(shown) == 1 else "/".join(_plain(v) for v in shown)
    return value, per_input, band


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
