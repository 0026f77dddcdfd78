"""Password hashing (Argon2id, argon2-cffi's tuned defaults) and opaque secrets.

Tokens, session ids and pairing codes are random and long enough that a plain SHA-256 of them is
safe to store (nothing to brute-force); only what people choose — passwords — gets Argon2.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LEN = 10


class WeakPassword(ValueError):
    pass


def check_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LEN:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LEN} characters")
    if username.lower() in password.lower():
        raise WeakPassword("a password must not contain the user name")
    if len(set(password)) < 5:
        raise WeakPassword("a password needs at least 5 different characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_pairing_code() -> str:
    """Six digits: typed on a tablet by a supervisor standing next to it, valid for minutes."""
    return f"{secrets.randbelow(1_000_000):06d}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
