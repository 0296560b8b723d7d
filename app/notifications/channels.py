"""Delivery channels: SMTP email, SMS (Alibaba Cloud, or the console in
development) and the in-app inbox. Each ``send`` reports its stage through
``on_stage`` and returns the provider's id; failures are Transient (retry)
or Permanent (give up)."""
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale

from tenants.models import as_utc

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
        "sender": query.get("from") or current_app.config.get("MAIL_FROM", "noreply@careloop.example.cn"),
        "timeout": float(query.get("timeout", "20")),
    }


def build_email(row, address: str, clinic_name: str, unsubscribe_url: str | None, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = formataddr((clinic_name, sender))
    message["To"] = address
    # Stable per outbox row: a receiving system can drop a duplicate it already has.
    message["Message-ID"] = make_msgid(idstring=f"{row.tenant_id}.{row.id}", domain="careloop")
    text = row.body_text
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text + (f"\n\n--\n{unsubscribe_url}" if unsubscribe_url else ""))
    with force_locale(row.locale):
        html = render_template("notifications/email.html", row=row, clinic_name=clinic_name,
                               unsubscribe_url=unsubscribe_url)
    message.add_alternative(html, subtype="html")
    return message


def _smtp_error(exc: smtplib.SMTPException) -> Exception:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _msg in exc.recipients.values()]
        code = codes[0] if codes else None
    if code and 500 <= code < 600:
        return PermanentError(f"mail server refused: {code} {exc}")
    return TransientError(f"mail server: {exc}")


def send_email(message: EmailMessage, on_stage) -> str:
    settings = _mail_settings()
    if not settings:
        log.info("console email to %s: %s\n%s", message["To"], message["Subject"], message.get_body(("plain",)))
        return f"console:{message['Message-ID']}"
    context = ssl.create_default_context(cafile=settings["cafile"])
    try:
        cls = smtplib.SMTP_SSL if settings["ssl"] else smtplib.SMTP
        kwargs = {"context": context} if settings["ssl"] else {}
        with cls(settings["host"], settings["port"], timeout=settings["timeout"], **kwargs) as smtp:
            smtp.ehlo()
            if settings["starttls"]:
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings["user"]:
                smtp.login(settings["user"], settings["password"])
            return _transfer(smtp, settings["sender"], message, on_stage)
    except smtplib.SMTPException as exc:
        raise _smtp_error(exc) from exc
    except (OSError, ssl.SSLError) as exc:
        raise TransientError(f"mail server unreachable: {exc}") from exc


def _transfer(smtp: smtplib.SMTP, sender: str, message: EmailMessage, on_stage) -> str:
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
    from app.notifications.sms_aliyun import AliyunSms

    return AliyunSms.from_url(url)


def sms_template_code(template_key: str) -> str:
    codes = current_app.config.get("SMS_TEMPLATE_CODES") or {}
    return codes.get(template_key, f"CARELOOP_{template_key.upper()}")


def send_sms(row, phone: str, on_stage) -> str:
    provider = sms_provider()
    if provider is None:
        log.info("console SMS to %s: %s", phone, row.body_text)
        return f"console:{row.id}"
    from app.notifications.sms_aliyun import PermanentSmsError, TransientSmsError

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
    from app.notifications.sms_aliyun import SmsError

    sent_on = as_utc(row.claimed_at).astimezone(ZoneInfo("Asia/Shanghai")).date()  # the provider's day
    try:
        return provider.lookup(phone, str(row.id), sent_on) is not None
    except SmsError:
        return None
