"""When a failed message is tried again, and when it is given up (dead-lettered)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6  # the attempt that fails with this number dead-letters the message
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds < 0 or self.cap_seconds < 0:
            raise ValueError(f"bad retry policy {self}")

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1, 2, ...): doubling."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))

    def is_dead(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
