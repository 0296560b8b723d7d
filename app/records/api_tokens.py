"""Per-clinic API tokens for machine-to-machine sync; only hashes are kept."""
import hashlib
import secrets

from sqlalchemy import select

from app.records.models import ApiToken
from tenants.db import db
from tenants.models import utcnow

SCOPES = ("fhir:write", "hl7:write")
PREFIX = "clk_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(name: str, scopes: list[str], actor_id: int | None) -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is shown once."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name.strip(), prefix=token[:10], token_hash=_hash(token),
                   scopes=[s for s in scopes if s in SCOPES], created_by=actor_id)
    db.session.add(row)
    return row, token


def authenticate(authorization: str, scope: str) -> ApiToken | None:
    kind, _sep, token = (authorization or "").partition(" ")
    if kind.lower() != "bearer" or not token.startswith(PREFIX):
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token.strip())))
    if row is None or row.revoked_at is not None or scope not in row.scopes:
        return None
    row.last_used_at = utcnow()
    return row


def listing() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))


def revoke(token_id: int) -> ApiToken | None:
    """Revoke a token; the token, or None if the clinic has no such token."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id))
    if row is None:
        return None
    row.revoked_at = row.revoked_at or utcnow()
    return row
