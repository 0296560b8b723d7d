"""Finding a catalogue entry by what staff remember of it: its Chinese or English name, its code, or
the pinyin (full or initials) of its Chinese name. The catalogue is a few hundred rows at most: it is
read once and matched here, so the pinyin need not be stored."""
import re

from pypinyin import Style, lazy_pinyin

from app.records.catalogue import all_indicators
from app.records.models import Indicator


def _fold(text: str) -> str:
    return re.sub(r"[\s'·_-]+", "", (text or "").lower())


def _keys(indicator: Indicator) -> list[str]:
    syllables = [s for s in lazy_pinyin(indicator.name_zh, style=Style.NORMAL, errors="ignore") if s.isascii()]
    return [_fold(indicator.name_zh), _fold(indicator.name_en), _fold(indicator.code), "".join(syllables),
            "".join(s[0] for s in syllables if s)]


def search_indicators(query: str, limit: int = 12) -> list[Indicator]:
    """Active entries whose name, code or pinyin contains ``query``; those that start with it first."""
    wanted = _fold(query)[:40]
    if not wanted:
        return []
    starts, contains = [], []
    for indicator in all_indicators(active_only=True):
        keys = _keys(indicator)
        if any(k.startswith(wanted) for k in keys):
            starts.append(indicator)
        elif any(wanted in k for k in keys):
            contains.append(indicator)
    return (starts + contains)[:limit]
