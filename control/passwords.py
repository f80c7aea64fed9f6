"""Password hashing with scrypt (memory-hard), parameters stored with each hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_N, _R, _P, _LEN = 2**14, 8, 1, 32


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`, salt and hash in hex."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a stored hash; malformed hashes never match."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Checked against when the user does not exist, so both cases take the same time.
DUMMY_HASH = hash_password(secrets.token_hex(16))


def check_password_strength(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < 10:
        return "password must be at least 10 characters"
    if len(password) > 256:
        return "password must be at most 256 characters"
    if len(set(password)) < 4:
        return "password is too repetitive"
    return None
