"""The signature of a webhook: HMAC-SHA256 over "<timestamp>.<body>" with a shared secret.

Headers sent: ``X-Uchet-Timestamp`` (unix seconds), ``X-Uchet-Signature: sha256=<hex>`` and
``X-Uchet-Idempotency-Key`` (the same on every retry of one message: the receiver dedupes)."""

from __future__ import annotations

import base64
import hashlib
import hmac

TIMESTAMP = "X-Uchet-Timestamp"
SIGNATURE = "X-Uchet-Signature"
IDEMPOTENCY_KEY = "X-Uchet-Idempotency-Key"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: bytes, timestamp: int, body: bytes, key: str) -> dict[str, str]:
    return {
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, timestamp, body),
        IDEMPOTENCY_KEY: key,
        "Content-Type": "application/json; charset=utf-8",
    }


def verify(
    secret: bytes, timestamp: str, body: bytes, sent: str, now: int, tolerance: int = 300
) -> bool:
    """True when ``sent`` signs ``body`` at ``timestamp`` and that is within ``tolerance``
    seconds of ``now`` (an old request replayed is refused)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, ts, body), sent)


def idempotency_key(account: str, kind: str, period: str, channel: str) -> str:
    """Stable for one (account, kind, period, channel): a message re-sent keeps its key."""
    raw = "\x1f".join((account, kind, period, channel)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def confirm_token(secret: bytes, account: str, address: str, expires: int) -> str:
    """A link token confirming that ``address`` is the resident's: the account, the address
    and the expiry (unix seconds), signed with HMAC-SHA256. Nothing is stored for it."""
    raw = "\x1f".join((account, address, str(expires))).encode()
    mac = hmac.new(secret, b"confirm\x1f" + raw, hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + mac


def check_confirm_token(secret: bytes, token: str, now: int) -> tuple[str, str] | None:
    """(account, address) of a valid, unexpired token; None for anything else."""
    data, dot, mac = token.partition(".")
    if not dot or len(token) > 2000:
        return None
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        account, address, expires = raw.decode().split("\x1f")
        deadline = int(expires)
    except ValueError:  # bad base64, bad UTF-8, wrong parts, not a number
        return None
    good = hmac.new(secret, b"confirm\x1f" + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(good, mac) or now > deadline:
        return None
    return account, address
