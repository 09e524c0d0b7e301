"""Which premise a resident's token opens, cached per account and kept true by the database.

Every resident request needs (account, token version) -> premise; asking the database each
time was a tenth of the API's CPU. The answer changes only when a password is reset (a new
token version) or an account moves to another premise, and migration 7 makes PostgreSQL say
so on the channel ``uchet_accounts`` whichever process made the change. While this process
listens there, an entry lives ``listened_ttl_s`` (a safety net); while it does not (the
listening connection is lost, or not yet made), the cache is emptied and entries live only
``ttl_s`` — a change made elsewhere then takes effect within that.
"""

from __future__ import annotations

import asyncio
import logging
import time

from adapters.store.notify import ListenFailed, listen_until_lost
from core.backoff import Backoff

log = logging.getLogger(__name__)

CHANNEL = "uchet_accounts"


class TokenCache:
    def __init__(
        self, ttl_s: float = 5.0, *, listened_ttl_s: float = 600.0, max_size: int = 100_000
    ) -> None:
        self.ttl_s = ttl_s
        self.listened_ttl_s = listened_ttl_s
        self.max_size = max_size
        self.listening = False
        self.listens = 0  # times listening (re)started
        self._entries: dict[str, tuple[int, str, float]] = {}  # account -> (version, premise, at)

    def get(self, account: str, version: int) -> str | None:
        hit = self._entries.get(account)
        if hit is None or hit[0] != version:
            return None
        ttl = self.listened_ttl_s if self.listening else self.ttl_s
        if time.monotonic() - hit[2] > ttl:
            return None
        return hit[1]

    def put(self, account: str, version: int, premise: str) -> None:
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[account] = (version, premise, time.monotonic())

    def drop(self, account: str) -> None:
        self._entries.pop(account, None)

    def clear(self) -> None:
        self._entries.clear()

    async def listen(self, url: str) -> None:
        """Listens for account changes until cancelled, reconnecting with backoff."""
        backoff = Backoff(base=0.5, cap=30.0)

        def listening() -> None:
            self.clear()  # changes made before now were not heard
            self.listening = True
            self.listens += 1
            backoff.reset()

        while True:
            try:
                await listen_until_lost(url, CHANNEL, self.drop, listening)
                log.warning("token cache: listening connection lost; short-lived entries")
            except ListenFailed as exc:  # never end the task: try again later
                log.warning("token cache: cannot listen for account changes: %s", exc)
            except Exception as exc:
                log.warning("token cache: listening failed: %s", exc)
            finally:
                if self.listening:
                    self.listening = False
                    self.clear()
            await asyncio.sleep(backoff.next_delay())
