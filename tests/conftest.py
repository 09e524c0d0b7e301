"""Shared fixtures: fresh databases on the real PostgreSQL, private Mosquitto brokers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from adapters.store import ReadingStore
from api.runtime import migrate_url
from tests.services import Mosquitto, create_database, drop_database
from tests.timescale.service import Service, Unavailable, reset

# The property tests draw the same examples on every run, so a red suite is reproducible
# and never a coin toss; UCHET_TEST_EXPLORE=1 searches new examples instead (do that when
# changing the billing or ledger core; the benchmarks run 10,000 random cases besides).
hypothesis_settings.register_profile("uchet", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile("explore" if os.environ.get("UCHET_TEST_EXPLORE") else "uchet")

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
"""``shared/`` beside the repository (the project's specs); absent in a bare clone."""


@pytest.fixture
async def db_url() -> AsyncIterator[str]:
    """DSN of a new, empty database on the test PostgreSQL server; dropped afterwards."""
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[ReadingStore]:
    """A migrated store on a fresh database (a test module may define its own)."""
    await migrate_url(db_url)
    s = await ReadingStore.open(db_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A private Mosquitto broker (started), restartable with ``.restart()``."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def timescale_service() -> Iterator[str]:
    """DSN of the session's TimescaleDB: UCHET_TEST_TIMESCALE_URL, else PGlite with TimescaleDB
    behind tools/pgwire (started once; skips, saying why, when it cannot start)."""
    given = os.environ.get("UCHET_TEST_TIMESCALE_URL")
    if given:
        yield given
        return
    try:
        service = Service()
    except Unavailable as exc:
        pytest.skip(f"no TimescaleDB test service: {exc}")
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture
async def timescale_url(timescale_service: str) -> AsyncIterator[str]:
    """The TimescaleDB test database, emptied (one database, shared by the session)."""
    await reset(timescale_service)
    yield timescale_service
