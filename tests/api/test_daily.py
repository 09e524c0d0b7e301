"""A resident's daily consumption, from the daily aggregate's query (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.api.conftest import ALICE, BOB, Env

pytestmark = pytest.mark.postgres


async def test_daily_consumption_of_own_meter(env: Env) -> None:
    alice, bob = await env.login(ALICE), await env.login(BOB)
    meter = (await env.meters(alice))["apt1-cw"]
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=k) for k in (5, 4, 2)]
    for d, value in zip(days, (100.0, 100.4, 101.0), strict=True):
        taken = datetime.combine(d, time(12), tzinfo=UTC).isoformat()
        r = await env.client.post(
            f"/v1/resident/meters/{meter}/readings",
            json={"value": value, "taken_at": taken},
            headers=alice,
        )
        assert r.status_code == 201, r.text
    url = f"/v1/resident/meters/{meter}/daily?first={days[0]}&last={today}"
    r = await env.client.get(url, headers=alice)
    assert r.status_code == 200, r.text
    got = [(x["day"], x["consumption"]) for x in r.json()]
    assert [d for d, _ in got] == [str(d) for d in days]
    assert got[0][1] is None  # the meter's first day
    assert got[1][1] == pytest.approx(0.4) and got[2][1] == pytest.approx(0.6)
    assert (await env.client.get(url, headers=bob)).status_code == 404
    backwards = f"/v1/resident/meters/{meter}/daily?first={today}&last={days[0]}"
    assert (await env.client.get(backwards, headers=alice)).status_code == 422
