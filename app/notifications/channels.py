"""Delivery channels: SMTP email, SMS (Alibaba Cloud, or the console in
development) and the in-app inbox. Each ``send`` reports its stage through
``on_stage`` and returns the provider's id; failures are Transient (retry)
or Permanent (give up)."""
import logging
import re
import smtplib
import socket
import ssl
import threading
import time
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from functools import lru_cache
from typing import cast
from urllib.parse import parse_qs, unquote, urlsplit

from babel import Locale
from flask import current_app, render_template
from flask_babel import force_locale

from app.notifications.sms_aliyun import PROVIDER_TZ, AliyunSms, PermanentSmsError, SmsError, TransientSmsError

log = logging.getLogger(__name__)


class TransientError(Exception):
    pass


class PermanentError(Exception):
    pass


# ------------------------------------------------------------------ email

def _mail_settings() -> dict:
    url = current_app.config.get("MAIL_URL") or ""
    if not url:
        return {}
    return _parse_mail_url(url, current_app.config.get("MAIL_FROM", "noreply@careloop.example.cn"))


@lru_cache(maxsize=8)
def _parse_mail_url(url: str, default_sender: str) -> dict:
    """MAIL_URL as settings (cached: callers must not change the dict)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "ssl": parts.scheme == "smtps",
        "host": parts.hostname or "localhost",
        "port": parts.port or (465 if parts.scheme == "smtps" else 25),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "starttls": query.get("starttls", "0") in ("1", "true", "yes"),
        "cafile": query.get("cafile"),
        "sender": query.get("from") or default_sender,
        "timeout": float(query.get("timeout", "20")),
        "keepalive": float(query.get("keepalive", "30")),  # seconds an idle session is kept; 0: one per message
    }


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    return Locale.parse(code)  # force_locale parses a string anew each time


@lru_cache(maxsize=8)
def _ssl_context(cafile: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)  # loading the CA store costs milliseconds


def build_email(row, address: str, clinic_name: str, unsubscribe_url: str | None, sender: str) -> Message:
    """Text and HTML alternatives. Built with the compat32 classes: about five
    times cheaper than EmailMessage, and they keep a long List-Unsubscribe a
    plain <URL> (RFC 2369), where EmailMessage folds it into encoded words."""
    # Both parts are base64, which has no "-": a fixed boundary cannot occur
    # in them (and spares the generator a regex compiled per message).
    message = MIMEMultipart("alternative", boundary=f"=_careloop.{row.tenant_id}.{row.id}")
    # a compat32 Message takes a Header as a value (typeshed allows str only)
    message["Subject"] = Header(  # type: ignore[assignment]
        row.subject, "us-ascii" if row.subject.isascii() else "utf-8")
    message["From"] = formataddr((clinic_name, sender))
    message["To"] = address
    # Stable per outbox row, the same on every attempt: a receiving system can
    # drop a duplicate it already has.
    message["Message-ID"] = f"<{row.tenant_id}.{row.id}@careloop>"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = row.body_text + (f"\n\n--\n{unsubscribe_url}" if unsubscribe_url else "")
    message.attach(MIMEText(text, "plain", "utf-8"))
    with force_locale(_locale(row.locale)):
        html = render_template("notifications/email.html", row=row, clinic_name=clinic_name,
                               unsubscribe_url=unsubscribe_url)
    message.attach(MIMEText(html, "html", "utf-8"))
    return message


def _smtp_error(exc: smtplib.SMTPException) -> Exception:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _msg in exc.recipients.values()]
        code = codes[0] if codes else None
    if code and 500 <= code < 600:
        return PermanentError(f"mail server refused: {code} {exc}")
    return TransientError(f"mail server: {exc}")


class _Session(threading.local):
    """This thread's open SMTP session, kept between messages: connecting,
    STARTTLS and AUTH cost more than sending one message."""

    smtp: smtplib.SMTP | None = None
    settings: dict | None = None
    last_used: float = 0.0

    def get(self, settings: dict) -> tuple[smtplib.SMTP, bool]:
        """(session, whether it was used before)."""
        fresh = time.monotonic() - self.last_used < settings["keepalive"]
        if self.smtp is not None and self.settings is settings and fresh:
            return self.smtp, True
        self.close()
        self.smtp, self.settings = _connect(settings), settings
        return self.smtp, False

    def close(self) -> None:
        smtp, self.smtp, self.settings = self.smtp, None, None
        if smtp is not None:
            try:
                smtp.close()  # no QUIT: the session may be in any state
            except OSError:
                pass


_session = _Session()


def _connect(settings: dict) -> smtplib.SMTP:
    context = _ssl_context(settings["cafile"])
    smtp: smtplib.SMTP
    if settings["ssl"]:
        smtp = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=settings["timeout"], context=context)
    else:
        smtp = smtplib.SMTP(settings["host"], settings["port"], timeout=settings["timeout"])
    try:
        if smtp.sock is None:  # given a host, the constructor connects or raises
            raise RuntimeError(f"SMTP to {settings['host']!r}: not connected")
        # Commands and the final dot are small writes each awaiting a reply:
        # without this, Nagle and delayed ACKs add ~40 ms to every message.
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        if settings["starttls"]:
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings["user"]:
            smtp.login(settings["user"], settings["password"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _stale(exc: BaseException) -> bool:
    """The failure of a kept session that the server had closed meanwhile."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # "service not available, closing channel"
    return isinstance(exc, (smtplib.SMTPServerDisconnected, OSError))


def send_email(message: Message, on_stage, *, console_text: str | None = None) -> str:
    """Send over this thread's SMTP session, opening one if needed. A kept
    session found closed before the commit point (nothing accepted yet) is
    replaced once; any failure closes the session, so a half-done transaction
    never carries over to the next message."""
    settings = _mail_settings()
    if not settings:
        text_part = cast(Message, message.get_payload(0))  # build_email's first part: the text alternative
        plain = console_text if console_text is not None else cast(bytes, text_part.get_payload(decode=True)).decode()
        log.info("console email to %s: %s\n%s", message["To"], message["Subject"], plain)
        return f"console:{message['Message-ID']}"
    committing = False

    def stage(name: str) -> None:
        nonlocal committing
        committing = committing or name == "committing"
        on_stage(name)

    while True:
        reused = False
        try:
            smtp, reused = _session.get(settings)
            reply = _transfer(smtp, settings["sender"], message, stage)
        except BaseException as exc:
            _session.close()
            if reused and not committing and _stale(exc):
                log.info("kept SMTP session was closed (%s); reconnecting", exc)
                continue
            if isinstance(exc, smtplib.SMTPException):
                raise _smtp_error(exc) from exc
            if isinstance(exc, OSError):  # ssl.SSLError is an OSError
                raise TransientError(f"mail server unreachable: {exc}") from exc
            raise
        _session.last_used = time.monotonic()
        return reply


def _transfer(smtp: smtplib.SMTP, sender: str, message: Message, on_stage) -> str:
    """MAIL, RCPT and DATA by hand, so the stage is recorded just before the
    final dot: up to there the server has accepted nothing and a resend is
    safe; after it, the message may have been accepted (RFC 1047)."""
    code, reply = smtp.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.rcpt(message["To"])
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({message["To"]: (code, reply)})
    code, reply = smtp.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    body = re.sub(rb"\r\n|\n|\r", b"\r\n", message.as_bytes())
    body = re.sub(rb"(?m)^\.", b"..", body)  # dot-stuffing (RFC 5321 4.5.2)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body)
    on_stage("committing")
    smtp.send(b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return f"{message['Message-ID']} {reply.decode(errors='replace')}"[:120]


# -------------------------------------------------------------------- sms

def sms_provider():
    url = current_app.config.get("SMS_URL") or ""
    if not url:
        return None

    return AliyunSms.from_url(url)


def sms_template_code(template_key: str) -> str:
    codes = current_app.config.get("SMS_TEMPLATE_CODES") or {}
    return codes.get(template_key, f"CARELOOP_{template_key.upper()}")


def send_sms(row, phone: str, on_stage) -> str:
    provider = sms_provider()
    if provider is None:
        # a message with a secret is logged masked, except in development (sealed.Outgoing.log_text)
        log.info("console SMS to %s: %s", phone, getattr(row, "log_text", row.body_text))
        return f"console:{row.id}"

    on_stage("committing")  # from here the provider may accept; recovery asks it first
    try:
        return provider.send(phone, sms_template_code(row.template_key), row.provider_params, str(row.id))
    except TransientSmsError as exc:
        raise TransientError(f"SMS provider: {exc}") from exc
    except PermanentSmsError as exc:
        raise PermanentError(f"SMS provider refused: {exc}") from exc


def sms_already_accepted(row, phone: str) -> bool | None:
    """Ask the provider whether it has this message. None: cannot tell."""
    provider = sms_provider()
    if provider is None:
        return None

    sent_on = row.claimed_at.astimezone(PROVIDER_TZ).date()  # the provider's day, whatever the clinic's
    try:
        return provider.lookup(phone, str(row.id), sent_on) is not None
    except SmsError:
        return None
