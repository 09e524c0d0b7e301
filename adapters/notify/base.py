"""What a sender of one channel is to the sender loop (ingest.notify)."""

from __future__ import annotations

from typing import Protocol

from adapters.store.outbox import Message


class SendFailed(Exception):
    """A message was not delivered. ``permanent``: trying again cannot help (a bounce, a 4xx
    from the gateway): the message is dead-lettered at once. ``bounce``: the recipient's
    server refused the address for good (SMTP 5xx): it is marked undeliverable; ``code`` is
    the server's answer code."""

    def __init__(
        self, reason: str, *, permanent: bool = False, bounce: bool = False, code: int = 0
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent or bounce
        self.bounce = bounce
        self.code = code


class Sender(Protocol):
    async def open(self) -> None: ...
    async def send(self, message: Message) -> None: ...
    async def close(self) -> None: ...
