"""Field encryption (AES-256-GCM), HMAC blind indexes for exact lookup, and
key rotation.

Keys are derived from a data key with HKDF, so one secret configures the
deployment while the two uses never share a key. ``DATA_KEY`` seals;
``DATA_KEY_PREVIOUS`` (comma-separated) lists the keys a rotation is moving
away from: what they sealed still opens until ``flask --app wsgi keys
rotate`` has re-sealed every row with the current key. Blind indexes are
keyed hashes, not ciphertext, and rows of different tables are matched by
them, so they do not rotate with the data key: they use ``DATA_INDEX_KEY``
(the data key if unset; set it to the old data key before the first
rotation and leave it).

Ciphertext: version byte 2 | 4-byte key id | 12-byte nonce | ciphertext+tag
(version 1, from before key ids, has no key id and opens with any known key).
The tenant id is bound in as associated data, so a value copied into another
clinic's row will not decrypt.
"""
import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from tenants.context import require_tenant_id

VERSION, LEGACY_VERSION = 2, 1


@dataclass(frozen=True)
class Key:
    id: bytes          # 4 bytes, written into every ciphertext it seals
    encryption: bytes
    index: bytes


def decode_data_key(data_key: str, *, strict: bool) -> bytes:
    """The 32 bytes of a data key (base64). A development phrase is hashed
    instead, unless ``strict`` (production), where it is refused."""
    try:
        raw = base64.b64decode(data_key, validate=True)
        if len(raw) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    if strict:
        raise ValueError("a data key is 32 random bytes in base64 (44 characters)")
    return hashlib.sha256(data_key.encode()).digest()


@lru_cache(maxsize=16)
def _key(data_key: str) -> Key:
    master = decode_data_key(data_key, strict=False)

    def derive(label: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(master)

    return Key(hashlib.sha256(b"careloop key id\x1f" + master).digest()[:4],
               derive(b"careloop field encryption v1"), derive(b"careloop blind index v1"))


def current_key() -> Key:
    return _key(current_app.config["DATA_KEY"])


def index_key() -> Key:
    return _key(current_app.config.get("DATA_INDEX_KEY") or current_app.config["DATA_KEY"])


def known_keys() -> list[Key]:
    """The current key first, then the previous ones being rotated away from."""
    previous = [k.strip() for k in (current_app.config.get("DATA_KEY_PREVIOUS") or "").split(",") if k.strip()]
    return [current_key(), *(_key(k) for k in previous)]


def encrypt(plaintext: str, tenant_id: int) -> bytes:
    key, nonce = current_key(), os.urandom(12)
    sealed = AESGCM(key.encryption).encrypt(nonce, plaintext.encode(), str(tenant_id).encode())
    return bytes([VERSION]) + key.id + nonce + sealed


def decrypt(blob: bytes | None, tenant_id: int) -> str | None:
    if not blob:
        return None
    blob = bytes(blob)
    aad = str(tenant_id).encode()
    if blob[0] == VERSION:
        key = next((k for k in known_keys() if k.id == blob[1:5]), None)
        if key is None:
            raise ValueError("sealed with a data key this deployment does not know (see DATA_KEY_PREVIOUS)")
        return AESGCM(key.encryption).decrypt(blob[5:17], blob[17:], aad).decode()
    if blob[0] == LEGACY_VERSION:
        for key in known_keys():
            try:
                return AESGCM(key.encryption).decrypt(blob[1:13], blob[13:], aad).decode()
            except InvalidTag:
                continue
        raise ValueError("sealed with a data key this deployment does not know (see DATA_KEY_PREVIOUS)")
    raise ValueError("unknown ciphertext version")


def is_current(blob: bytes | None) -> bool:
    """Sealed with the current key (nothing to rotate)?"""
    return not blob or (bytes(blob)[0] == VERSION and bytes(blob)[1:5] == current_key().id)


def blind_index(value: str, tenant_id: int, purpose: str) -> str:
    """A keyed hash for equality lookup; different per tenant and per field."""
    message = f"{purpose}\x1f{tenant_id}\x1f{value}".encode()
    return hmac.new(index_key().index, message, hashlib.sha256).hexdigest()


# ------------------------------------------------------ encrypted columns

class EncryptedText(TypeDecorator):
    """A text column sealed at rest with the current clinic as associated
    data (rows are only read and written inside their clinic's context).
    The attribute reads and writes plain ``str``; "" is stored as NULL."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return encrypt(value, require_tenant_id()) if value else None

    def process_result_value(self, value, dialect):
        return decrypt(value, require_tenant_id()) or ""


class EncryptedJSON(TypeDecorator):
    """A JSON value sealed at rest (as EncryptedText)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")), require_tenant_id())

    def process_result_value(self, value, dialect):
        text = decrypt(value, require_tenant_id())
        return None if text is None else json.loads(text)
