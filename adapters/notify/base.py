"""What a sender of one channel is to the sender loop (ingest.notify)."""

from __future__ import annotations

from typing import Protocol

from adapters.store.outbox import Message


class SendFailed(Exception):
    """A message was not delivered. ``permanent``: trying again cannot help (a bounce, a 4xx
    from the gateway): the message is dead-lettered at once."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Sender(Protocol):
    async def open(self) -> None: ...
    async def send(self, message: Message) -> None: ...
    async def close(self) -> None: ...
