"""Sources under supervision: a source that fails is logged once with its cause, restarted
with backoff, and its restarts are counted and reported (``uchet stats``, the API).

A *source* is anything the gateway runs until it is stopped: the MQTT subscription, the Modbus
poller, the file inbox, the VEE schedule, the health port (and the pipeline that writes what
they read). Each is a coroutine function run inside a :class:`Supervised`, with an optional
``detail`` callable for its own figures (``MqttSource.health``); the gateway runs all of them
in one ``asyncio.TaskGroup``, so none can die unnoticed and none can take the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.backoff import Backoff

log = logging.getLogger(__name__)

HEALTHY_AFTER_S = 60.0
"""A source that ran this long since its last start is healthy again: its backoff restarts."""


@dataclass(slots=True)
class SourceHealth:
    """The supervisor's view of one source."""

    name: str
    state: str = "starting"  # starting | running | restarting | stopped
    restarts: int = 0
    last_error: str | None = None
    since: datetime = field(default_factory=lambda: datetime.now(UTC))

    def moved(self, state: str) -> None:
        self.state = state
        self.since = datetime.now(UTC)

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "since": self.since.isoformat(),
        }


class Supervised:
    """Runs ``target`` until ``stop`` is set, restarting it whenever it fails or ends."""

    def __init__(
        self,
        name: str,
        target: Callable[[], Awaitable[None]],
        stop: asyncio.Event,
        *,
        detail: Callable[[], dict[str, object]] | None = None,
        backoff: Backoff | None = None,
        healthy_after_s: float = HEALTHY_AFTER_S,
    ) -> None:
        self.name = name
        self.target = target
        self.stop = stop
        self.detail = detail
        self.backoff = backoff or Backoff(base=0.5, cap=30.0)
        self.healthy_after_s = healthy_after_s
        self.health = SourceHealth(name)

    def report(self) -> dict[str, object]:
        """Health for operators: the supervisor's view plus the source's own figures."""
        doc = self.health.as_dict()
        if self.detail is not None:
            try:
                doc["detail"] = self.detail()
            except Exception as exc:  # a health probe must not hide the rest
                doc["detail"] = {"error": f"{type(exc).__name__}: {exc}"}
        return doc

    async def run(self) -> None:
        h = self.health
        while not self.stop.is_set():
            h.moved("running")
            started = time.monotonic()
            try:
                await self.target()
            except asyncio.CancelledError:
                h.moved("stopped")
                raise
            except Exception as exc:
                if self.stop.is_set():
                    break
                cause = f"{type(exc).__name__}: {exc}"
                failure: BaseException | None = exc
            else:
                if self.stop.is_set():
                    break
                cause, failure = "ended by itself", None
            if time.monotonic() - started >= self.healthy_after_s:
                self.backoff.reset()
            delay = self.backoff.next_delay()
            h.restarts += 1
            h.last_error = cause
            h.moved("restarting")
            log.error(
                "source %s failed (%s); restart %d in %.1f s",
                self.name,
                cause,
                h.restarts,
                delay,
                exc_info=failure,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)
        h.moved("stopped")
