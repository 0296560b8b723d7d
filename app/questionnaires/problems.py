"""Problems of the structural check: what each concerns and how it is named.

Each problem names what it concerns and is read in the reader's language (lazy strings): the builder shows them
on zh or en pages; outside a request they read in the app's default language, or plain English without an app.
"""
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from app.questionnaires.schema import LANGS


@dataclass(frozen=True)
class At:
    """Where a problem is: its target ("question:KEY", "section:KEY", "score:KEY", or "" for the definition as a
    whole and its flags) and how the message names it."""
    target: str
    label: Any = ""


@dataclass(frozen=True)
class Problem:
    """One structural problem; ``field`` is the builder form's field it concerns ("problems" when none)."""
    at: At
    message: Any
    field: str = "problems"

    @property
    def target(self) -> str:
        return self.at.target

    def __str__(self) -> str:
        if not self.at.label:
            return str(self.message)
        return str(_l("%(where)s: %(problem)s", where=self.at.label, problem=self.message))


def quoted(value: Any) -> str:
    """A key as the messages quote it."""
    return repr(value)


def section_at(skey: Any) -> At:
    return At(f"section:{skey}" if isinstance(skey, str) else "", _l("section %(section)s", section=quoted(skey)))


def question_at(section_key: Any, key: Any) -> At:
    return At(f"question:{key}" if isinstance(key, str) else "",
              _l("question %(question)s in section %(section)s", question=quoted(key), section=quoted(section_key)))


def score_at(key: Any) -> At:
    return At(f"score:{key}" if isinstance(key, str) else "", _l("score %(score)s", score=quoted(key)))


def bilingual(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGS)
