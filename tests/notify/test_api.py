"""The notification routes in process (the API's own app) on the real PostgreSQL: a resident
chooses kinds × channels and an e-mail; the new e-mail gets the confirmation link only; after
the link, a submitted reading is confirmed by «показание принято» (the submission hook), and
an opted-out kind is not; operators list the log with filters and paging."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import asyncpg
import pytest

from api.routes import notify
from tests.api.conftest import ALICE, BOB, Env, env  # noqa: F401  (the fixture)
from tests.notify.conftest import PUBLIC_URL

pytestmark = pytest.mark.postgres


async def _outbox(url: str) -> list[dict[str, object]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT kind, address, params FROM notify_outbox ORDER BY id")
    finally:
        await conn.close()
    return [{**dict(r), "params": json.loads(r["params"])} for r in rows]


async def _wait_for(url: str, n: int) -> list[dict[str, object]]:
    for _ in range(500):  # the hook runs in the background (slow on a loaded machine)
        rows = await _outbox(url)
        if len(rows) >= n:
            return rows
        await asyncio.sleep(0.02)
    return await _outbox(url)


async def test_preferences_confirmation_and_reading_received(env: Env) -> None:  # noqa: F811
    c = env.client
    alice = await env.login(ALICE)
    r = await c.get("/v1/resident/notifications", headers=alice)
    assert r.status_code == 200, r.text
    p = r.json()
    assert (
        p["email"] is None and len(p["choices"]) == 10 and all(x["enabled"] for x in p["choices"])
    )
    assert (await c.get("/v1/resident/notifications")).status_code == 401

    bad = await c.put("/v1/resident/notifications", headers=alice, json={"email": "alice"})
    assert bad.status_code == 422
    r = await c.put(
        "/v1/resident/notifications", headers={**alice, "Host": "evil.example"},
        json={"email": "alice@example.ru",
              "choices": [{"kind": "debt", "channel": "email", "enabled": False}]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["confirmation_sent"] and p["email"] == {
        "address": "alice@example.ru", "confirmed": False, "undeliverable": None,
    }  # fmt: skip
    assert {(x["kind"], x["channel"]) for x in p["choices"] if not x["enabled"]} == {
        ("debt", "email")
    }
    (confirm,) = await _outbox(env.url)
    assert confirm["kind"] == "email_confirm" and confirm["address"] == "alice@example.ru"
    link = str(confirm["params"]["link"])  # type: ignore[index]
    # the public URL, never the Host the client sent
    assert link.startswith(PUBLIC_URL + "/cabinet/notifications/confirm?token=")

    meters = await env.meters(alice)
    sent = await c.post(f"/v1/resident/meters/{meters['apt1-cw']}/readings", headers=alice,
                        json={"value": 11.5})  # fmt: skip
    assert sent.status_code in (200, 201), sent.text
    await asyncio.sleep(0.3)
    assert len(await _outbox(env.url)) == 1  # unconfirmed: nothing but the confirmation

    token = link.partition("token=")[2]
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")  # never the token itself
    bad = await c.get("/v1/notifications/confirm", params={"token": tampered})
    assert bad.status_code == 404
    ok = await c.get("/v1/notifications/confirm", params={"token": token})
    assert ok.status_code == 200 and ok.json()["address"] == "alice@example.ru"
    r = await c.get("/v1/resident/notifications", headers=alice)
    assert r.json()["email"]["confirmed"] is True

    sent = await c.post(f"/v1/resident/meters/{meters['apt1-el']}/readings", headers=alice,
                        json={"value": 4321.25})  # fmt: skip
    assert sent.status_code in (200, 201), sent.text
    rows = await _wait_for(env.url, 2)
    assert [r["kind"] for r in rows] == ["email_confirm", "reading_received"]
    assert rows[1]["params"]["value"] == "4321,25"  # type: ignore[index]

    # opted out of «показание принято» by e-mail: the next reading is not told
    off = [{"kind": "reading_received", "channel": "email", "enabled": False}]
    r = await c.put(
        "/v1/resident/notifications", headers=alice,
        json={"email": "alice@example.ru", "choices": off},
    )  # fmt: skip
    assert r.status_code == 200 and not r.json()["confirmation_sent"]
    assert r.json()["email"]["confirmed"] is True  # the same address stays confirmed
    sent = await c.post(f"/v1/resident/meters/{meters['apt1-hw']}/readings", headers=alice,
                        json={"value": 7.0})  # fmt: skip
    assert sent.status_code in (200, 201), sent.text
    await asyncio.sleep(0.3)
    assert len(await _outbox(env.url)) == 2

    # the operators' log
    log = await c.get("/v1/operator/notifications", headers=env.viewer,
                      params={"kind": "reading_received"})  # fmt: skip
    assert log.status_code == 200, log.text
    assert log.json()["total"] == 1 and log.json()["items"][0]["status"] == "pending"
    page = await c.get("/v1/operator/notifications", headers=env.viewer,
                       params={"limit": 1, "offset": 1})  # fmt: skip
    assert page.json()["total"] == 2 and page.json()["items"][0]["kind"] == "email_confirm"
    assert (await c.get("/v1/operator/notifications", headers=alice)).status_code == 401
    assert (
        await c.get("/v1/operator/notifications", headers=env.viewer, params={"status": "x"})
    ).status_code == 422
    assert urlsplit(link).path == "/cabinet/notifications/confirm"


async def test_huge_offset_is_refused_clearly(env: Env) -> None:  # noqa: F811
    c = env.client
    for offset, status in ((2**31 - 1, 200), (2**31, 422), (10**30, 422)):
        r = await c.get("/v1/operator/notifications", headers=env.viewer,
                        params={"offset": offset})  # fmt: skip
        assert r.status_code == status, r.text
    assert "offset" in r.text


async def test_no_confirmation_without_the_public_url(
    env: Env,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("UCHET_NOTIFY_PUBLIC_URL")
    notify._settings.cache_clear()
    alice = await env.login(ALICE)
    r = await env.client.put("/v1/resident/notifications", headers=alice,
                             json={"email": "alice@example.ru"})  # fmt: skip
    assert r.status_code == 503, r.text
    assert "UCHET_NOTIFY_PUBLIC_URL" in r.json()["detail"]
    assert await _outbox(env.url) == []
    r = await env.client.get("/v1/resident/notifications", headers=alice)
    assert r.json()["email"] is None  # not stored half-way


async def test_confirmations_limited_per_account_and_address(env: Env) -> None:  # noqa: F811
    c = env.client
    alice, bob = await env.login(ALICE), await env.login(BOB)

    async def put(who: dict[str, str], address: str) -> int:
        r = await c.put("/v1/resident/notifications", headers=who, json={"email": address})
        assert r.status_code in (200, 429), r.text
        if r.status_code == 429:
            assert "не больше 3 в час" in r.json()["detail"] and int(r.headers["Retry-After"]) > 0
        return r.status_code

    victim = "victim@example.ru"
    steps = [
        (alice, victim.upper(), 200),
        (bob, victim, 200),
        (alice, "a1@example.ru", 200),
        (alice, victim, 200),  # Alice's third this hour, the victim's third
        (bob, "b1@example.ru", 200),
        (bob, victim, 429),  # Bob's third, but the victim has had three: the address' limit
        (alice, "a2@example.ru", 429),  # Alice's fourth: the account's limit
    ]
    assert [await put(who, address) for who, address, _ in steps] == [s for *_, s in steps]
    r = await c.get("/v1/resident/notifications", headers=bob)
    assert r.json()["email"]["address"] == "b1@example.ru"  # the refused change not stored
    rows = await _outbox(env.url)
    assert len(rows) == 5 and {r["kind"] for r in rows} == {"email_confirm"}
    assert sum(str(r["address"]).lower() == victim for r in rows) == 3
