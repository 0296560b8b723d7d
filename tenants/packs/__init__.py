"""Default data a new clinic starts with, as JSON files beside this module."""
import json
from functools import cache
from pathlib import Path

PACKS = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict:
    return json.loads((PACKS / f"{name}.json").read_text(encoding="utf-8"))
