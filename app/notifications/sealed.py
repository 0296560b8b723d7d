"""Messages that carry a secret (a sign-in code).

The secret exists in clear only in the request that creates the message and
in the send. The outbox row keeps its subject, body and provider parameters
with the secret masked (验证码 ******); the real ones are sealed with the
data key (AES-GCM, the clinic bound in) in ``secret_enc`` until the send, and
wiped when the row is sent, fails or is cancelled. ``secret_until`` marks the
row as one that carries a secret, for good, and says when it expires.

A row whose secret is gone or expired is never sent: the send fails it
instead, so a retry, the sweep's recovery or a staff resend can neither
deliver a masked text as if it were the code nor an expired code.
"""
import json
from datetime import datetime

from flask import current_app

from app.core import crypto

MASK = "******"


class Unsendable(Exception):
    """The row's secret is gone or expired: it must not go out."""


def masked(variables: dict, secret: tuple[str, ...]) -> dict:
    return {k: (MASK if k in secret else v) for k, v in variables.items()}


def seal(subject: str, text: str, params: dict, tenant_id: int) -> bytes:
    return crypto.encrypt(json.dumps({"subject": subject, "text": text, "params": params}), tenant_id)


class Outgoing:
    """An outbox row as it goes out: the stored row with its secret put back,
    in memory only (never assigned to the row, which is committed while it is
    sent). ``log_text`` is what a console backend may write to the log: the
    real text in development only (there the log is the patient's phone)."""

    def __init__(self, row, secret: dict | None):
        self._row = row
        self.subject = secret["subject"] if secret else row.subject
        self.body_text = secret["text"] if secret else row.body_text
        self.provider_params = secret["params"] if secret else row.provider_params
        development = current_app.config.get("CARELOOP_ENV") == "development"
        self.log_text = self.body_text if (secret is None or development) else row.body_text

    def __getattr__(self, name: str):
        return getattr(self._row, name)


def reveal(row, now: datetime) -> Outgoing:
    """The row ready to send; raises Unsendable for a secret that is gone or expired."""
    if row.secret_until is None:
        return Outgoing(row, None)
    if row.secret_until <= now:
        raise Unsendable("the sign-in code expired before it could be sent; not sent (the patient asks for "
                         "a new one)")
    if not row.secret_enc:
        raise Unsendable("the message's secret is gone (sent, failed or cancelled before); a masked text is "
                         "never sent")
    return Outgoing(row, json.loads(crypto.decrypt(row.secret_enc, row.tenant_id) or "{}"))


def wipe(row) -> None:
    row.secret_enc = None
