"""A resident's typo (×100): an unusual value waits for confirmation, and the resident can
correct their own last reading of the month; the old value is kept in the corrections log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

pytestmark = pytest.mark.postgres


async def _corrections(url: str) -> list[tuple[float, float]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT old_value, new_value FROM corrections ORDER BY id")
    finally:
        await conn.close()
    return [(r["old_value"], r["new_value"]) for r in rows]


async def test_typo_confirmed_then_corrected(env) -> None:
    from tests.api.conftest import ALICE

    headers = await env.login(ALICE)
    meter = (await env.meters(headers))["apt1-cw"]
    url = f"/v1/resident/meters/{meter}/readings"
    now = datetime.now(UTC)
    first = await env.client.post(
        url, json={"value": 400, "taken_at": (now - timedelta(days=10)).isoformat()},
        headers=headers,
    )  # fmt: skip
    assert first.status_code == 201, first.text

    typo = await env.client.post(url, json={"value": 42500}, headers=headers)
    assert typo.status_code == 409, typo.text
    problem = typo.json()
    assert problem["reason"] == "implausible_rate" and "42500" in problem["detail"]
    history = (await env.client.get(url, headers=headers)).json()
    assert [r["value"] for r in history] == [400]  # nothing stored without confirmation

    confirmed = await env.client.post(url, json={"value": 42500, "confirm": True}, headers=headers)
    assert confirmed.status_code == 201, confirmed.text
    assert "implausible_rate" in confirmed.json()["flags"]
    # the correct, lower value is a rollback as a new reading...
    lower = await env.client.post(url, json={"value": 425}, headers=headers)
    assert lower.status_code == 422 and lower.json()["reason"] == "register_rollback"
    # ...and a correction of the last one
    fixed = await env.client.put(f"{url}/last", json={"value": 425}, headers=headers)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "corrected"
    history = (await env.client.get(url, headers=headers)).json()
    assert [r["value"] for r in history] == [425, 400]
    assert await _corrections(env.url) == [(42500.0, 425.0)]

    below = await env.client.put(f"{url}/last", json={"value": 300}, headers=headers)
    assert below.status_code == 422 and below.json()["reason"] == "register_rollback"


async def test_only_an_own_reading_of_the_open_month_can_be_corrected(env) -> None:
    from tests.api.conftest import ALICE, BOB

    alice, bob = await env.login(ALICE), await env.login(BOB)
    meter = (await env.meters(alice))["apt1-cw"]
    url = f"/v1/resident/meters/{meter}/readings"
    none_yet = await env.client.put(f"{url}/last", json={"value": 1}, headers=alice)
    assert none_yet.status_code == 422 and none_yet.json()["reason"] == "not_correctable"
    old = datetime.now(UTC) - timedelta(days=40)
    r = await env.client.post(url, json={"value": 5, "taken_at": old.isoformat()}, headers=alice)
    assert r.status_code == 201, r.text
    closed = await env.client.put(f"{url}/last", json={"value": 6}, headers=alice)
    assert closed.status_code == 422 and closed.json()["reason"] == "not_correctable"
    other = await env.client.put(f"{url}/last", json={"value": 6}, headers=bob)
    assert other.status_code == 404


async def test_an_absurd_value_is_refused_with_a_reason(env) -> None:
    from tests.api.conftest import ALICE

    headers = await env.login(ALICE)
    meter = (await env.meters(headers))["apt1-cw"]
    url = f"/v1/resident/meters/{meter}/readings"
    r = await env.client.post(url, json={"value": 5e11, "confirm": True}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "value_too_large"
    assert "больше" in r.json()["detail"]
    assert (await env.client.get(url, headers=headers)).json() == []
