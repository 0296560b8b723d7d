"""Ordered ranges as the packs write them: ``{"below": x}`` holds values
under x, ``{"upto": x}`` values up to and including x, and the last entry,
with neither, everything above. The first range that holds the value wins."""


def pick(ranges: list[dict], value: float) -> dict:
    for entry in ranges:
        if "below" in entry:
            if value < entry["below"]:
                return entry
        elif "upto" in entry:
            if value <= entry["upto"]:
                return entry
        else:
            return entry
    raise ValueError(f"no range holds {value}")


def item_ranges(item: dict, values: dict) -> list[dict]:
    """An item's ranges, or those for the value of its ``by`` input (waist by sex)."""
    return item[values[item["by"]]] if "by" in item else item["ranges"]
