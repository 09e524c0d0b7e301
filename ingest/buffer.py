"""A bounded buffer of envelopes, bounded by the number of items, for backpressure.

Sources await :meth:`put` when the buffer holds ``capacity`` items; the batcher takes up to
a batch at a time. One envelope larger than the capacity is still admitted when the buffer is
empty, so a large array payload cannot deadlock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.batch import Columns

Ack = Callable[[], None]


@dataclass(slots=True)
class Envelope:
    items: Columns
    ack: Ack | None = None


class Buffer:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self._queue: deque[Envelope] = deque()
        self._not_full = asyncio.Event()
        self._not_full.set()
        self._not_empty = asyncio.Event()

    def __len__(self) -> int:
        return self.size

    async def put(self, envelope: Envelope) -> None:
        n = len(envelope.items)
        while self.size and self.size + n > self.capacity:
            self._not_full.clear()
            await self._not_full.wait()
        self._queue.append(envelope)
        self.size += n
        self._not_empty.set()

    async def wait_not_empty(self) -> None:
        while not self._queue:
            self._not_empty.clear()
            await self._not_empty.wait()

    def take(self, limit: int) -> list[Envelope]:
        """Envelopes holding up to ``limit`` items (at least one envelope if any)."""
        out: list[Envelope] = []
        taken = 0
        while self._queue and (not out or taken + len(self._queue[0].items) <= limit):
            env = self._queue.popleft()
            out.append(env)
            taken += len(env.items)
        self.size -= taken
        if self.size < self.capacity:
            self._not_full.set()
        return out

    def put_back(self, envelopes: list[Envelope]) -> None:
        """Returns taken envelopes to the front, in their order (their batch failed)."""
        for env in reversed(envelopes):
            self._queue.appendleft(env)
            self.size += len(env.items)
        if envelopes:
            self._not_empty.set()
