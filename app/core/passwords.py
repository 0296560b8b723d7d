"""argon2id password hashes."""
import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


def hasher_for(mode: str) -> PasswordHasher:
    """argon2id with the library's current parameters. The test suite (CARELOOP_ENV=testing) hashes and
    checks thousands of passwords that protect nothing, with the cheapest parameters; a hash it made
    still verifies anywhere and is rehashed at the next sign-in elsewhere."""
    if mode == "testing":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


_hasher = hasher_for(os.environ.get("CARELOOP_ENV", "production"))

# Verified against when the account does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("no such account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
