"""Shared fixtures: fresh databases on the real PostgreSQL, private Mosquitto brokers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.services import Mosquitto, create_database, drop_database

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
"""``shared/`` beside the repository (the project's specs); absent in a bare clone."""
DATA = Path(__file__).resolve().parent / "data"
"""Copies of shared data the tests need (kept identical by tests/test_shared_copies.py)."""


@pytest.fixture
async def db_url() -> AsyncIterator[str]:
    """DSN of a new, empty database on the test PostgreSQL server; dropped afterwards."""
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A private Mosquitto broker (started), restartable with ``.restart()``."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
