"""The ``<id:...>`` URL converter: a positive BIGINT or a 404, never a 500."""
from werkzeug.routing import BaseConverter, ValidationError

from tenants.ids import MAX_ID


class IdConverter(BaseConverter):
    regex = r"\d{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def register(app) -> None:
    app.url_map.converters["id"] = IdConverter


def form_id(value: str | None) -> int | None:
    """An id typed into a form or query string: the number, or None if it is not one that can exist."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
