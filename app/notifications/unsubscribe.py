"""Signed unsubscribe links: one channel and category of one patient."""
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "careloop-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(row) -> str:
    return _serializer().dumps({"t": row.tenant_id, "p": row.recipient_id, "c": row.channel, "k": row.category})


def read_token(token: str, tenant_id: int) -> dict | None:
    """The token's content, or None if forged or for another clinic."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("t") != tenant_id:
        return None
    return data
