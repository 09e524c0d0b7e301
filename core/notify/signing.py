"""The signature of a webhook: HMAC-SHA256 over "<timestamp>.<body>" with a shared secret.

Headers sent: ``X-Uchet-Timestamp`` (unix seconds), ``X-Uchet-Signature: sha256=<hex>`` and
``X-Uchet-Idempotency-Key`` (the same on every retry of one message: the receiver dedupes)."""

from __future__ import annotations

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
