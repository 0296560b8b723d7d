"""Form validators shared by every capability."""
import re
from typing import Protocol, TypeVar

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

_MARKUP = re.compile(r"[<>]|javascript:", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class NoMarkup:
    """Refuse angle brackets and control characters in free text: names and
    notes are printed on cards and reports, never markup."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        value = field.data or ""
        if _MARKUP.search(value) or _CONTROL.search(value):
            raise ValidationError(self.message or _l(
                "Please remove angle brackets and control characters: this field takes plain text."))


_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class _Field(Protocol[_T_co]):
    name: str

    @property
    def data(self) -> _T_co | None: ...


def required(field: _Field[_T]) -> _T:
    """A field's data once the form has validated with ``DataRequired`` or
    ``InputRequired``: never None then, and a None here is a bug."""
    if field.data is None:
        raise ValueError(f"form field {field.name!r} has no data after validation")
    return field.data
