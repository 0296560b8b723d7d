"""Field encryption (AES-256-GCM) and HMAC blind indexes for exact lookup.

Both keys are derived from DATA_KEY with HKDF, so one secret configures the
deployment while the two uses never share a key. Ciphertext layout:
version byte (1) | 12-byte nonce | ciphertext+tag. The tenant id is bound in
as associated data, so a value copied into another clinic's row will not decrypt.
"""
import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

VERSION = 1


def _master_key(data_key: str) -> bytes:
    try:
        raw = base64.b64decode(data_key, validate=True)
        if len(raw) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    return hashlib.sha256(data_key.encode()).digest()  # development keys are phrases


@lru_cache(maxsize=8)
def _subkeys(data_key: str) -> tuple[bytes, bytes]:
    master = _master_key(data_key)

    def derive(label: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(master)

    return derive(b"careloop field encryption v1"), derive(b"careloop blind index v1")


def _keys() -> tuple[bytes, bytes]:
    return _subkeys(current_app.config["DATA_KEY"])


def encrypt(plaintext: str, tenant_id: int) -> bytes:
    nonce = os.urandom(12)
    sealed = AESGCM(_keys()[0]).encrypt(nonce, plaintext.encode(), str(tenant_id).encode())
    return bytes([VERSION]) + nonce + sealed


def decrypt(blob: bytes | None, tenant_id: int) -> str | None:
    if not blob:
        return None
    blob = bytes(blob)
    if blob[0] != VERSION:
        raise ValueError("unknown ciphertext version")
    return AESGCM(_keys()[0]).decrypt(blob[1:13], blob[13:], str(tenant_id).encode()).decode()


def blind_index(value: str, tenant_id: int, purpose: str) -> str:
    """A keyed hash for equality lookup; different per tenant and per field."""
    message = f"{purpose}\x1f{tenant_id}\x1f{value}".encode()
    return hmac.new(_keys()[1], message, hashlib.sha256).hexdigest()
