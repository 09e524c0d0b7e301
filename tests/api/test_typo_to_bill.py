"""Issue 15 end to end: one resident's typo (×100) is confirmed and then corrected, another
resident's absurd reading is excluded by an operator, and billing of the month completes for
everyone without billing either value (real PostgreSQL, the real app)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import ALICE, BOB, Env

pytestmark = pytest.mark.postgres
MSK = ZoneInfo("Europe/Moscow")


async def _cold_water(env: Env, who: tuple[str, str], period: str) -> list[dict]:
    headers = await env.login(who)
    r = await env.client.get(f"/v1/resident/accruals?period={period}", headers=headers)
    assert r.status_code == 200, r.text
    return [line for p in r.json() for line in p["lines"] if line["service"] == "cold_water"]


async def test_typo_confirmed_corrected_excluded_and_billed(env: Env) -> None:
    now = datetime.now(UTC)
    month_start = now.astimezone(MSK).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    early = (month_start - timedelta(days=2)).isoformat()  # last month's reading
    period = f"{month_start:%Y-%m}"

    alice, bob = await env.login(ALICE), await env.login(BOB)
    a_meter = (await env.meters(alice))["apt1-cw"]
    b_meter = (await env.meters(bob))["apt3-cw"]
    a_url = f"/v1/resident/meters/{a_meter}/readings"
    b_url = f"/v1/resident/meters/{b_meter}/readings"
    post = env.client.post

    assert (await post(a_url, json={"value": 400, "taken_at": early}, headers=alice)).is_success
    typo = await post(a_url, json={"value": 42500}, headers=alice)
    assert typo.status_code == 409  # asked to confirm: nothing stored
    sure = await post(a_url, json={"value": 42500, "confirm": True}, headers=alice)
    assert sure.status_code == 201
    fixed = await env.client.put(f"{a_url}/last", json={"value": 425}, headers=alice)
    assert fixed.status_code == 200 and fixed.json()["status"] == "corrected"

    assert (await post(b_url, json={"value": 100, "taken_at": early}, headers=bob)).is_success
    absurd = await post(b_url, json={"value": 9000, "confirm": True}, headers=bob)
    assert absurd.status_code == 201
    r = await env.client.get("/v1/operator/meters", headers=env.viewer)
    m = next(x for x in r.json() if x["id"] == b_meter)
    excluded = await post(
        "/v1/operator/readings/exclude",
        json={
            "meter": f"{m['source']}:{m['serial']}:{m['channel']}",
            "ts": absurd.json()["taken_at"],
            "reason": "9000 instead of 109: the resident does not answer",
        },
        headers=env.operator,
    )
    assert excluded.status_code == 200, excluded.text

    billed = await post(f"/v1/operator/billing/{period}", headers=env.operator)
    assert billed.status_code == 200, billed.text
    assert billed.json()["premises"] == 4  # billing completed for everyone

    # the individual lines (СОИ lines are the house's share, by area)
    alice = [x for x in await _cold_water(env, ALICE, period) if not x["method"].startswith("soi")]
    assert [(x["method"], Decimal(x["volume"])) for x in alice] == [("meter", Decimal(25))]
    bob = [x for x in await _cold_water(env, BOB, period) if not x["method"].startswith("soi")]
    assert bob and all(x["method"] != "meter" for x in bob), bob  # by average/normative
    assert all(Decimal(x["volume"]) < 100 for x in bob), bob
