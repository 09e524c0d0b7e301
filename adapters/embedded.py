"""Embedded defaults for a machine with nothing but Python: PostgreSQL (pgserver) and an MQTT
broker (amqtt), used when no external servers are configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

log = logging.getLogger(__name__)


def embedded_postgres(home: Path) -> str:
    """Starts (or reuses) the PostgreSQL of ``home/pgdata``; returns its DSN.

    The server stops when this process exits (if this process started it).
    """
    import warnings

    data = (home / "pgdata").resolve()
    data.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver  # a heavy import, only when the embedded database is wanted

        server = pgserver.get_server(str(data), cleanup_mode="stop")
    uri: str = server.get_uri()
    log.info("embedded PostgreSQL at %s", data)
    return uri


@contextlib.asynccontextmanager
async def embedded_broker(port: int) -> AsyncIterator[str]:
    """Runs an amqtt broker on 127.0.0.1:port for the duration of the block."""
    from amqtt.broker import Broker

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "sys_interval": 0,
        "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
        "topic-check": {"enabled": False},
    }
    broker = Broker(config)
    await broker.start()
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(broker.shutdown(), 10)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
