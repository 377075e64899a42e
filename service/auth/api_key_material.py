"""Making and hashing API keys.

A key is 32 random bytes, so a plain SHA-256 of it is as hard to reverse as the key is to
guess; a slow password hash (bcrypt, argon2) would only add latency to every request.
The database and logs only ever see the hash.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "tri_"


def generate_api_key() -> str:
    """A new random key, recognisable by its ``tri_`` prefix (secret scanners, logs)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """Hex SHA-256 of the key, as stored and looked up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
