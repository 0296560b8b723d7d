"""The pack: the instruments shipped in tenants/packs/questionnaires/, one checked JSON file each."""
import json
from functools import cache
from pathlib import Path

from flask_babel import force_locale

from app.questionnaires.definition_check import check_definition

PACK_DIR = Path(__file__).resolve().parents[2] / "tenants" / "packs" / "questionnaires"


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
