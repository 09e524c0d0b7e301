"""LISTEN on a PostgreSQL channel over a connection of its own (``NOTIFY`` from any process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg


class ListenFailed(Exception):
    """The listening connection could not be made (the caller retries later)."""


async def listen_until_lost(
    url: str,
    channel: str,
    on_notify: Callable[[str], None],
    on_listening: Callable[[], None],
) -> None:
    """Listens on ``channel`` until the connection is lost (then returns) or the task is
    cancelled. ``on_notify(payload)`` for each notification; ``on_listening()`` once the
    listener is in place. Raises ListenFailed when the connection cannot be made; whatever
    goes wrong after is raised as is, with the connection closed."""
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except Exception as exc:  # whatever it is: the caller logs it and tries again
        raise ListenFailed(str(exc)) from exc
    lost = asyncio.Event()

    def notified(_conn: object, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str):
            on_notify(payload)

    try:
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(channel, notified)
        on_listening()
        await lost.wait()
    finally:
        with contextlib.suppress(Exception):
            await conn.close(timeout=2)
