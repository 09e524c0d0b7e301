"""Signed session cookies: who is logged in (resident or operator) and the CSRF token.

The cookie is the whole session (no server table): JSON, base64url, HMAC-SHA256. Revocation
still works because each request checks the account's token version or the API key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, replace

COOKIE = "uchet_session"
FLASH = "uchet_flash"
ANONYMOUS, RESIDENT, OPERATOR = "anon", "resident", "operator"


@dataclass(frozen=True, slots=True)
class Session:
    kind: str  # anon (only a CSRF token, for the login forms), resident or operator
    csrf: str
    expires: int
    account: str = ""  # resident: лицевой счёт
    version: int = 0  # resident: token version (a password reset ends the session)
    key_id: int = 0  # operator: the API key that opened the session

    @staticmethod
    def anonymous(ttl_s: int) -> Session:
        return Session(ANONYMOUS, secrets.token_urlsafe(24), int(time.time()) + ttl_s)

    def login(self, ttl_s: int, **who: object) -> Session:
        """A new CSRF token on login, so one planted before login is useless after it."""
        fresh = Session.anonymous(ttl_s)
        return replace(fresh, **who)  # type: ignore[arg-type]


class Sealer:
    """Signs and opens cookie values (sessions and one-shot messages)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: bytes) -> str:
        digest = hmac.new(self._key, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def seal(self, data: dict[str, object]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
        text = body.rstrip(b"=")
        return text.decode() + "." + self._mac(text)

    def open(self, value: str | None) -> dict[str, object] | None:
        if not value or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def session(self, value: str | None) -> Session | None:
        data = self.open(value)
        if data is None:
            return None
        try:
            session = Session(**data)  # type: ignore[arg-type]
        except TypeError:
            return None
        if not isinstance(session.expires, int) or session.expires < time.time():
            return None
        return session

    def seal_session(self, session: Session) -> str:
        return self.seal(asdict(session))


def derive_key(secret: str | None) -> bytes:
    """A key of its own for cookies (not the resident token key), or a random one per process."""
    if secret is None:
        return secrets.token_bytes(32)
    return hmac.new(secret.encode(), b"uchet web session", hashlib.sha256).digest()
