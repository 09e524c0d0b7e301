"""Per-device circuit breaker with jittered, capped exponential backoff.

Every failure schedules a retry after a backoff that doubles per consecutive failure up to
``max_s`` ("equal jitter": a random point in the upper half, so a fleet that failed together
does not retry together). After ``threshold`` consecutive failures the breaker is open: the
device counts as offline. One success closes it and the device returns to its schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Breaker:
    threshold: int = 3
    base_s: float = 5.0
    max_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0
    is_open: bool = False
    retry_at: float = 0.0

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be >= 1")
        if not 0 < self.base_s <= self.max_s:
            raise ValueError("need 0 < base_s <= max_s")

    def backoff(self) -> float:
        """The delay before the next probe, for the current failure count."""
        exponent = max(0, self.failures - 1)
        ceiling = min(self.max_s, self.base_s * 2.0 ** min(exponent, 60))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def record_failure(self, now: float) -> bool:
        """Counts a failure and sets ``retry_at``; True when it opened the breaker (offline)."""
        self.failures += 1
        self.retry_at = now + self.backoff()
        if self.failures < self.threshold:
            return False
        opened = not self.is_open
        self.is_open = True
        return opened

    def record_success(self) -> bool:
        """Resets; True when the breaker was open (the device came back online)."""
        was_open = self.is_open
        self.failures = 0
        self.is_open = False
        self.retry_at = 0.0
        return was_open
