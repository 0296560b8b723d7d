"""Build the search keys of a patient and normalise what staff type."""
import itertools
import re

from pypinyin import Style, pinyin

MAX_TERM = 64
MAX_READINGS = 8  # heteronym combinations kept per name (单 shan/dan, 曾 zeng/ceng)
PREFIX_END = "\U0010ffff"  # sorts after every character in byte order


def _suffixes(text: str) -> list[str]:
    return [text[i:] for i in range(len(text))]


def name_readings(name: str) -> list[list[str]]:
    """Pinyin syllables of each reading of the name (several for 多音字)."""
    per_char = pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore")
    choices = [[s.lower() for s in options[:3] if s.isascii()] or [] for options in per_char]
    choices = [c for c in choices if c]
    if not choices:
        return []
    return [list(combo) for combo in itertools.islice(itertools.product(*choices), MAX_READINGS)]


def primary_pinyin(name: str) -> str:
    readings = name_readings(name)
    return "".join(readings[0]) if readings else ""


def terms_for(name: str, card_no: str, mobile_last4: str) -> set[str]:
    folded = re.sub(r"\s+", "", name.lower())
    terms = set(_suffixes(folded))
    for syllables in name_readings(name):
        for i in range(len(syllables)):
            terms.add("".join(syllables[i:]))
            terms.add("".join(s[0] for s in syllables[i:]))
    card_digits = re.sub(r"\D", "", card_no)
    terms.update({card_no.lower(), str(int(card_digits)) if card_digits else "", mobile_last4})
    return {t[:MAX_TERM] for t in terms if t}


def normalise_query(raw: str) -> str:
    return re.sub(r"[\s'·-]+", "", (raw or "").strip().lower())[:MAX_TERM]
