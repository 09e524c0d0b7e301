"""At most N messages a minute to one recipient domain (big mail providers throttle and
greylist a sender that floods them). Pure: the caller passes the clock."""

from __future__ import annotations

from collections import deque


def domain_of(address: str) -> str:
    """The recipient's domain of an e-mail; a phone or chat id (webhook) is its own domain."""
    at = address.rfind("@")
    return address[at + 1 :].lower() if at >= 0 else ""


class DomainLimiter:
    """A sliding window of 60 s per domain. ``per_minute`` 0 or less: no limit."""

    WINDOW = 60.0

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._sent: dict[str, deque[float]] = {}

    def take(self, domain: str, now: float) -> float:
        """0 when a message to ``domain`` may go now (and counts it), else the seconds to wait."""
        if self.per_minute <= 0 or not domain:
            return 0.0
        times = self._sent.setdefault(domain, deque())
        while times and times[0] <= now - self.WINDOW:
            times.popleft()
        if len(times) >= self.per_minute:
            return times[0] + self.WINDOW - now
        times.append(now)
        return 0.0
