"""What one running app holds: the store, the settings, signer, limiters, metrics, queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.store import ReadingStore
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.security import TokenSigner
from api.settings import ApiSettings
from api.submissions import SubmissionQueue
from api.token_cache import TokenCache


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
