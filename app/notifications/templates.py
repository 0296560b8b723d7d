"""Message templates: the pack's defaults, a clinic's own wording, rendering
in a sandbox, and checks that fail in the preview rather than at send time."""
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import gettext as _
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from app.notifications.models import NotificationTemplate
from tenants import packs
from tenants.db import db

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
LOCALES = ("zh_CN", "en")
MAX_SMS_CHARS = 500


class TemplateError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class Definition:
    key: str
    category: str
    at_once: bool
    variables: tuple[str, ...]
    sample: dict
    channels: tuple[str, ...]
    secret: tuple[str, ...] = ()  # variables kept out of the outbox (a sign-in code): see services.notify


@dataclass
class Wording:
    subject: str
    text: str
    custom: bool = False


@dataclass
class Rendered:
    subject: str
    text: str


def definitions() -> dict[str, Definition]:
    return {
        key: Definition(key, spec["category"], spec["at_once"], tuple(spec["variables"]), spec["sample"],
                        tuple(spec["channels"]), tuple(spec.get("secret", ())))
        for key, spec in packs.load("notification_templates").items()
    }


def definition(key: str) -> Definition:
    found = definitions().get(key)
    if found is None:
        raise KeyError(f"unknown notification template {key!r}")
    return found


def _pack_wording(key: str, channel: str, locale: str) -> Wording | None:
    spec = packs.load("notification_templates")[key]["channels"].get(channel)
    if not spec:
        return None
    entry = spec.get(locale) or spec["zh_CN"]
    return Wording(entry.get("subject", ""), entry["text"])


def custom_row(key: str, channel: str, locale: str) -> NotificationTemplate | None:
    return db.session.scalar(select(NotificationTemplate).where(
        NotificationTemplate.key == key, NotificationTemplate.channel == channel,
        NotificationTemplate.locale == locale))


def wording(key: str, channel: str, locale: str) -> Wording | None:
    """The clinic's wording if it has one, else the pack's; None if the
    template has no such channel."""
    definition(key)
    row = custom_row(key, channel, locale)
    if row is not None:
        return Wording(row.subject, row.body_text, custom=True)
    return _pack_wording(key, channel, locale)


def check(key: str, channel: str, subject: str, text: str) -> None:
    """Refuse syntax errors and placeholders the template does not offer."""
    allowed = set(definition(key).variables)
    for field, source in (("subject", subject), ("body_text", text)):
        try:
            used = meta.find_undeclared_variables(_env.parse(source))
        except TemplateSyntaxError as exc:
            raise TemplateError(field, _("Template error on line %(line)d: %(error)s",
                                         line=exc.lineno, error=exc.message)) from exc
        unknown = sorted(used - allowed)
        if unknown:
            raise TemplateError(field, _("Unknown placeholder %(names)s. Available: %(allowed)s.",
                                         names=", ".join(unknown), allowed=", ".join(sorted(allowed))))
    if not text.strip():
        raise TemplateError("body_text", _("The message text is required."))
    if channel in ("email", "inapp") and not subject.strip():
        raise TemplateError("subject", _("A subject is required for this channel."))
    if channel == "sms" and len(text) > MAX_SMS_CHARS:
        raise TemplateError("body_text", _("An SMS may have at most %(n)d characters.", n=MAX_SMS_CHARS))


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """Compiling costs more than rendering: once per distinct wording."""
    return _env.from_string(source)


def render(wording_: Wording, variables: dict) -> Rendered:
    try:
        return Rendered(_compiled(wording_.subject).render(variables).strip(),
                        _compiled(wording_.text).render(variables).strip())
    except (UndefinedError, TemplateSyntaxError) as exc:
        raise TemplateError("body_text", str(exc)) from exc


def preview(key: str, channel: str, subject: str, text: str) -> Rendered:
    """Render with the template's sample values; raises TemplateError."""
    check(key, channel, subject, text)
    return render(Wording(subject, text), definition(key).sample)


def save(key: str, channel: str, locale: str, subject: str, text: str, *, actor_id: int | None) -> None:
    if locale not in LOCALES or channel not in definition(key).channels:
        raise TemplateError("body_text", _("This template has no such language or channel."))
    check(key, channel, subject, text)
    row = custom_row(key, channel, locale)
    if row is None:
        row = NotificationTemplate(key=key, channel=channel, locale=locale)
        db.session.add(row)
    row.subject, row.body_text, row.updated_by = subject.strip(), text.strip(), actor_id


def reset(key: str, channel: str, locale: str) -> None:
    row = custom_row(key, channel, locale)
    if row is not None:
        db.session.delete(row)
