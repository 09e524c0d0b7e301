"""``/metrics``: the store figures are computed once per interval, single flight — concurrent
scrapes share one query instead of each counting the readings (they once filled the pool)."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.conftest import Env

pytestmark = pytest.mark.postgres


async def test_concurrent_scrapes_share_one_store_query(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = env.app.state.services
    store, metrics = services.store, services.metrics
    real = store.stats
    calls = 0

    async def counted() -> dict[str, object]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)  # a slow count(*): the other scrapes arrive meanwhile
        return await real()

    monkeypatch.setattr(store, "stats", counted)
    replies = await asyncio.gather(*(env.client.get("/metrics") for _ in range(30)))
    assert [r.status_code for r in replies] == [200] * 30
    assert all("uchet_store_meters 8.0" in r.text for r in replies), replies[0].text
    assert calls == 1 and metrics.store_queries == 1

    await env.client.get("/metrics")  # within the interval: the figures are not asked again
    assert calls == 1

    metrics.store_ttl_s = 0.0  # the interval is over: the next scrape asks once more
    replies = await asyncio.gather(*(env.client.get("/metrics") for _ in range(10)))
    assert all(r.status_code == 200 for r in replies)
    assert calls == 2


async def test_a_scraper_that_goes_away_does_not_cancel_the_shared_query(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = env.app.state.services
    store, metrics = services.store, services.metrics
    real = store.stats
    started = asyncio.Event()

    async def slow() -> dict[str, object]:
        started.set()
        await asyncio.sleep(0.2)
        return await real()

    monkeypatch.setattr(store, "stats", slow)
    first = asyncio.create_task(metrics.refresh_store(store))
    await started.wait()
    second = asyncio.create_task(metrics.refresh_store(store))
    await asyncio.sleep(0)
    first.cancel()
    await second  # completes: the query went on without the first scraper
    assert metrics.store_queries == 1
    assert metrics.meters._value.get() == 8.0
