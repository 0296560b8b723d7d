"""Form validators shared by every capability."""
import re

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
