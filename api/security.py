"""Secrets: resident passwords (argon2id), resident tokens (signed JWT, expiring) and operator
API keys (random, stored as SHA-256). Nothing here logs or returns a secret it was given."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Final

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES: Final = ("viewer", "operator")
KEY_PREFIX: Final = "uk_"
MIN_PASSWORD: Final = 8
_ALGORITHM: Final = "HS256"

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~0.1 s per hash on one
# core; the library default (64 MiB, 3 passes, 4 lanes) takes 0.5 s of both cores of a small
# server per login. Parameters are stored in each hash, so they can be raised later.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Verified when the account is unknown, so that a login takes as long either way.
_DUMMY_HASH: Final = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Checks in a worker thread: argon2 is deliberately slow and would stall the loop."""
    return await asyncio.to_thread(_verify, stored, password)


def new_password() -> str:
    """A password an operator can hand out (about 80 bits)."""
    return secrets.token_urlsafe(10)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    account: str
    version: int
    expires: int


class TokenSigner:
    """Signs and checks resident tokens; a token names the account and its token version."""

    def __init__(self, key: str, *, ttl_s: int, cache_size: int = 50_000) -> None:
        self._key = key
        self.ttl_s = ttl_s
        self.cache_size = cache_size
        # token -> its claims, once verified: a resident sends the same token with every
        # request, and HMAC + base64 + JSON per request was a tenth of the request's CPU.
        # Keyed by the whole token, so any changed byte is verified afresh; expiry is checked
        # on every hit; only valid tokens are kept (junk cannot fill the cache).
        self._verified: dict[str, TokenClaims] = {}

    def issue(self, account: str, version: int, *, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "sub": account,
            "ver": version,
            "iat": issued,
            "exp": issued + self.ttl_s,
            "typ": "resident",
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def check(self, token: str, *, now: float | None = None) -> TokenClaims | None:
        """The claims of a valid, unexpired token; None for anything else."""
        at = now if now is not None else time.time()
        hit = self._verified.get(token)
        if hit is not None:
            if at < hit.expires:  # as PyJWT: expired when exp <= now
                return hit
            del self._verified[token]
            return None
        claims = self._decode(token)
        if claims is None or at >= claims.expires:
            return None
        if len(self._verified) >= self.cache_size:
            self._forget_expired(at)
        self._verified[token] = claims
        return claims

    def _forget_expired(self, at: float) -> None:
        for token in [t for t, c in self._verified.items() if at >= c.expires]:
            del self._verified[token]
        if len(self._verified) >= self.cache_size:  # all still valid: start over
            self._verified.clear()

    def _decode(self, token: str) -> TokenClaims | None:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                options={"require": ["sub", "ver", "exp", "iat"]},
            )
        except jwt.PyJWTError:
            return None
        sub, ver = claims.get("sub"), claims.get("ver")
        if claims.get("typ") != "resident" or not isinstance(sub, str) or type(ver) is not int:
            return None
        return TokenClaims(sub, ver, int(claims["exp"]))


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> bytes:
    # The key has 256 random bits: a plain hash is enough (no brute force), and fast per request.
    return hashlib.sha256(key.encode()).digest()
