"""Build the search keys of a patient and normalise what staff type.

ü is typed two ways: pypinyin writes it "v" (吕 lv, 女 nv, 略 lve), and staff type "lv" or "lu". After
l and n both spellings are keys of their own ("lu" is also 卢's reading, so neither can stand for the
other). After j, q, x and y the standard spelling is "u" (徐 xu) and a "v" typed there can mean nothing
else, so the query is normalised instead.
"""
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


_U_AFTER_LN = re.compile(r"^([ln])v(e?)$")
MAX_SPELLINGS = 4  # ü spellings kept per reading (two ü syllables in one name, both ways each)


def spellings(syllables: list[str]) -> list[list[str]]:
    """The reading as pypinyin writes it, then with each lü/nü syllable written with u (lv -> lu)."""
    options = [[s, _U_AFTER_LN.sub(r"\1u\2", s)] if _U_AFTER_LN.match(s) else [s] for s in syllables]
    return [list(combo) for combo in itertools.islice(itertools.product(*options), MAX_SPELLINGS)]


def has_u_variant(name: str) -> bool:
    """Whether some reading of the name has a lü or nü syllable (its keys include a u spelling)."""
    return any(_U_AFTER_LN.match(s) for reading in name_readings(name) for s in reading)


def primary_pinyin(name: str) -> str:
    readings = name_readings(name)
    return "".join(readings[0]) if readings else ""


def terms_for(name: str, card_no: str, mobile_last4: str) -> set[str]:
    folded = re.sub(r"\s+", "", name.lower())
    terms = set(_suffixes(folded))
    for reading in name_readings(name):
        for syllables in spellings(reading):
            for i in range(len(syllables)):
                terms.add("".join(syllables[i:]))
                terms.add("".join(s[0] for s in syllables[i:]))
    card_digits = re.sub(r"\D", "", card_no)
    terms.update({card_no.lower(), str(int(card_digits)) if card_digits else "", mobile_last4})
    return {t[:MAX_TERM] for t in terms if t}


def normalise_query(raw: str) -> str:
    """Lower case without spaces or separators; ü typed as itself or "u:" becomes v (the stored spelling),
    and in a query of letters only "v" after j, q, x or y becomes u (xv -> xu, 徐)."""
    text = re.sub(r"[\s'·-]+", "", (raw or "").strip().lower()).replace("u:", "v").replace("ü", "v")
    if text.isascii() and text.isalpha():
        text = re.sub(r"([jqxy])v", r"\1u", text)
    return text[:MAX_TERM]
