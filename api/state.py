"""What one running app holds: the store, the settings, signer, limiters, metrics, queue."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from adapters.store import ReadingStore
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.security import TokenSigner
from api.settings import ApiSettings
from api.submissions import SubmissionQueue


class TokenCache:
    """(account, token version) -> premise, for a few seconds: spares a query per request.

    A password reset in this process drops the account at once; one made elsewhere (the CLI,
    another API process) takes effect within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 5.0, max_size: int = 100_000) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._entries: dict[tuple[str, int], tuple[str, float]] = {}

    def get(self, account: str, version: int) -> str | None:
        hit = self._entries.get((account, version))
        if hit is None or time.monotonic() - hit[1] > self.ttl_s:
            return None
        return hit[0]

    def put(self, account: str, version: int, premise: str) -> None:
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[(account, version)] = (premise, time.monotonic())

    def drop(self, account: str) -> None:
        for key in [k for k in self._entries if k[0] == account]:
            del self._entries[key]


@dataclass(slots=True)
class Services:
    store: ReadingStore
    settings: ApiSettings
    signer: TokenSigner
    login_limiter: RateLimiter
    submit_limiter: RateLimiter
    metrics: Metrics
    submissions: SubmissionQueue
    tokens: TokenCache = field(default_factory=TokenCache)
