"""Passwords, session tokens, API tokens and CSRF tokens.

Passwords are hashed with argon2id (argon2-cffi) at the OWASP Password Storage Cheat Sheet's parameters
(19 MiB of memory, 2 iterations, 1 lane); the encoded hash carries its parameters, so they can be raised later:
:func:`needs_rehash` says when a stored hash is weaker than today's and the store rehashes it at the next
successful login. Hashes written by earlier versions (``scrypt$n$r$p$salt$hash``) keep verifying and are
rehashed the same way.

A failed login costs the same whether or not the user exists: an unknown user is checked against
:data:`DUMMY_HASH` (one verification, like a known user), so the response time does not tell an attacker which
usernames are real.

Session and API tokens are random 256-bit strings; only their SHA-256 is stored, so a copy of the state
database does not let anyone log in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM = 2, 19 * 1024, 1
"""OWASP's first argon2id configuration (m=19 MiB, t=2, p=1)."""
TOKEN_PREFIX = "rva_"

_hasher = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)


def hash_password(password: str) -> str:
    """The argon2id encoded hash of ``password`` (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``, random salt)."""
    return _hasher.hash(password)


@cache
def dummy_hash() -> str:
    """A hash of a random password at today's parameters, made once: what an unknown user is checked against."""
    return hash_password(secrets.token_urlsafe(16))


def _verify_scrypt(password: str, stored: str) -> bool:
    """Hashes written before argon2id: ``scrypt$n$r$p$salt$hash`` (salt and hash base64)."""
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2id or legacy scrypt; a malformed hash never matches)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made by an older scheme or weaker parameters than :func:`hash_password` uses."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def new_token(prefix: str = "") -> str:
    """A random URL-safe token (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for a session or API token: its SHA-256 (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time equality for CSRF tokens; a missing token never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
