"""Time-based one-time passwords (RFC 6238) with pyotp: the six-digit,
30-second, HMAC-SHA-1 codes authenticator apps show. The check reads the
clinic clock and accepts the step before and after (clocks drift); a step
once used, or older, is refused, so a code is good once."""
import hashlib
import hmac
from datetime import datetime, timezone

import pyotp
import segno

from app.core.clock import utcnow

STEP = 30
DIGITS = 6


def new_secret() -> str:
    """160 random bits, in base32 as apps take them."""
    return pyotp.random_base32(32)


def code_at(secret: str, moment: int | datetime, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """The code for a moment (seconds since the epoch, or an aware datetime)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, timezone.utc)  # aware: pyotp then counts in UTC
    return pyotp.TOTP(secret, digits=digits, digest=getattr(hashlib, digest), interval=STEP).at(moment)


def verify(secret: str, code: str, *, last_step: int | None) -> int | None:
    """The step ``code`` belongs to (now, one before or one after), or None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = int(utcnow().timestamp()) // STEP
    for step in (now, now - 1, now + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step * STEP), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth:// address as an inline SVG QR code, for the app to scan."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")


def grouped(secret: str) -> str:
    """The secret in blocks of four, for typing it in by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
