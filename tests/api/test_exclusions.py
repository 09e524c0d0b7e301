"""Operators exclude a reading from billing (kept, flagged EXCLUDED, who/why/when recorded in
reading_exclusions) and include it again: through the store, the API, the CLI and the
dashboard; on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from adapters.store.exclusions import ExclusionError, find_meter
from api.app import create_app
from api.cli import main
from core.codes import Flag
from tests.api.conftest import ALICE, Env, prepare, settings

pytestmark = pytest.mark.postgres


async def _reading(env: Env) -> tuple[int, str, str]:
    """A reading Alice submits: (meter id, meter name SOURCE:ID:CHANNEL, its time ISO)."""
    alice = await env.login(ALICE)
    meters = await env.meters(alice)
    meter_id = meters["apt1-cw"]
    taken = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    r = await env.client.post(
        f"/v1/resident/meters/{meter_id}/readings",
        json={"value": 42500, "taken_at": taken.isoformat()},
        headers=alice,
    )
    assert r.status_code == 201, r.text
    r = await env.client.get("/v1/operator/meters", headers=env.viewer)
    m = next(x for x in r.json() if x["id"] == meter_id)
    return meter_id, f"{m['source']}:{m['serial']}:{m['channel']}", taken.isoformat()


async def _state(url: str, meter_id: int) -> tuple[int, list[tuple[str, str, str]]]:
    conn = await asyncpg.connect(url)
    try:
        flags = await conn.fetchval("SELECT flags FROM readings WHERE meter_id = $1", meter_id)
        rows = await conn.fetch(
            "SELECT action, reason, actor FROM reading_exclusions WHERE meter_id = $1 ORDER BY id",
            meter_id,
        )
    finally:
        await conn.close()
    return int(flags), [(r["action"], r["reason"], r["actor"]) for r in rows]


async def test_api_excludes_and_includes_with_a_record(env: Env) -> None:
    meter_id, name, ts = await _reading(env)
    body = {"meter": name, "ts": ts, "reason": "typo: 42500 instead of 425"}
    r = await env.client.post("/v1/operator/readings/exclude", json=body, headers=env.viewer)
    assert r.status_code == 403
    r = await env.client.post("/v1/operator/readings/exclude", json=body, headers=env.operator)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["excluded"] and out["changed"] and out["value"] == 42500
    assert "excluded" in out["flags"] and out["meter_id"] == meter_id
    flags, record = await _state(env.url, meter_id)
    assert flags & Flag.EXCLUDED
    assert len(record) == 1 and record[0][:2] == ("exclude", "typo: 42500 instead of 425")
    assert record[0][2].startswith("api:api_key:")

    again = await env.client.post("/v1/operator/readings/exclude", json=body, headers=env.operator)
    assert again.status_code == 200 and not again.json()["changed"]
    assert len((await _state(env.url, meter_id))[1]) == 1  # nothing recorded twice

    alice = await env.login(ALICE)  # the resident still sees the reading, marked
    history = await env.client.get(f"/v1/resident/meters/{meter_id}/readings", headers=alice)
    assert "excluded" in history.json()[0]["flags"]

    by_id = {"meter_id": meter_id, "ts": ts, "reason": "checked on site: it was right"}
    r = await env.client.post("/v1/operator/readings/include", json=by_id, headers=env.operator)
    assert r.status_code == 200 and not r.json()["excluded"] and r.json()["changed"]
    flags, record = await _state(env.url, meter_id)
    assert not flags & Flag.EXCLUDED and [x[0] for x in record] == ["exclude", "include"]

    r = await env.client.get("/v1/operator/readings/exclusions", headers=env.viewer)
    assert [x["action"] for x in r.json()] == ["include", "exclude"]
    assert r.json()[1]["value"] == 42500 and r.json()[1]["meter"] == name


async def test_api_names_what_is_wrong(env: Env) -> None:
    _, name, ts = await _reading(env)
    cases = [
        ({"meter": name, "ts": "2020-01-01T00:00:00+00:00", "reason": "x"}, 404, "no reading"),
        ({"meter": "mqtt:nope", "ts": ts, "reason": "x"}, 404, "no meter"),
        ({"meter": name, "ts": ts[:19], "reason": "x"}, 422, "ts"),
        ({"meter": name, "ts": ts, "reason": ""}, 422, "reason"),
        ({"meter": name, "meter_id": 1, "ts": ts, "reason": "x"}, 422, "exactly one"),
        ({"meter": name, "ts": ts, "reason": "   "}, 422, "reason is required"),
    ]
    for body, status, says in cases:
        r = await env.client.post("/v1/operator/readings/exclude", json=body, headers=env.operator)
        assert r.status_code == status, (body, r.text)
        assert says in r.text, (body, r.text)


async def test_cli_excludes_includes_and_lists(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    meter_id, name, ts = await _reading(env)
    monkeypatch.setenv("UCHET_DATABASE_URL", env.url)
    serial = name.rsplit(":", 1)[0]  # SOURCE:ID: the channel may be left out (one channel)
    args = ["--ts", ts, "--reason", "meter replaced", "--by", "ivanova"]
    assert await _cli(["readings", "exclude", "--meter", serial, *args]) == 0
    assert capsys.readouterr().out.startswith(f"исключено из расчёта: {name} на ")
    assert await _cli(["readings", "exclude", "--meter", name, *args]) == 0
    assert capsys.readouterr().out.startswith("уже исключено из расчёта")
    flags, record = await _state(env.url, meter_id)
    assert flags & Flag.EXCLUDED and record == [("exclude", "meter replaced", "ivanova")]
    assert await _cli(["readings", "include", "--meter", name, "--ts", ts, "--reason", "no"]) == 0
    capsys.readouterr()
    assert await _cli(["readings", "exclusions", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["action"] for x in lines] == ["include", "exclude"]
    assert lines[1]["by"] == "ivanova" and lines[0]["by"].startswith("cli:")
    assert await _cli(["readings", "exclusions"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert " возврат " in text[0] and " исключение " in text[1]
    assert "кто: ivanova, причина: meter replaced" in text[1]

    assert await _cli(["readings", "exclude", "--meter", "mqtt:nope", *args]) == 2
    assert "no meter 'mqtt:nope'" in capsys.readouterr().err
    assert await _cli(["readings", "exclude", "--meter", name, "--ts", "2020-01-01T00:00Z",
                 "--reason", "x"]) == 2  # fmt: skip
    assert "has no reading at 2020-01-01T00:00:00+00:00" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        await _cli(["readings", "exclude", "--meter", name, "--ts", ts[:19], "--reason", "x"])
    assert "needs a time zone" in capsys.readouterr().err


async def test_a_meter_named_without_its_channel_must_be_unambiguous(env: Env) -> None:
    conn = await asyncpg.connect(env.url)
    try:
        await conn.execute(
            "INSERT INTO meters (source, external_id, channel, service, unit) VALUES"
            " ('mqtt', 'twin', 't1', 'electricity', 'kWh'),"
            " ('mqtt', 'twin', 't2', 'electricity', 'kWh')"
        )
        with pytest.raises(ExclusionError, match="has channels t1, t2"):
            await find_meter(conn, "mqtt:twin")
        assert (await find_meter(conn, "mqtt:twin:t2")).channel == "t2"
        with pytest.raises(ExclusionError, match="SOURCE:ID"):
            await find_meter(conn, "twin")
    finally:
        await conn.close()


async def _cli(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)  # main runs its own event loop


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_dashboard_form_excludes_and_shows_the_record(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UCHET_WEB_SECURE_COOKIE", "always")
    operator, viewer = await prepare(db_url)
    app = create_app(db_url, settings=settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            env = Env(app, client, db_url, {"X-API-Key": operator}, {"X-API-Key": viewer})
            meter_id, name, ts = await _reading(env)
            page = await client.get("/operator/login")
            r = await client.post(
                "/operator/login", data={"csrf": _csrf(page.text), "api_key": operator}
            )
            assert r.status_code == 303, r.text
            dash = await client.get("/operator")
            assert 'id="exclude-form"' in dash.text and "Исключений не было" in dash.text
            tz = app.state.web.timezone
            local = datetime.fromisoformat(ts).astimezone(tz).replace(tzinfo=None)
            form = {"csrf": _csrf(dash.text), "meter": name, "ts": local.isoformat(),
                    "reason": "опечатка жителя", "action": "exclude"}  # fmt: skip
            r = await client.post("/operator/readings/exclude", data=form)
            assert r.status_code == 303
            dash = await client.get("/operator")
            assert "исключено из расчёта" in dash.text
            assert "опечатка жителя" in dash.text and 'id="exclusion-log"' in dash.text
            flags, record = await _state(db_url, meter_id)
            assert flags & Flag.EXCLUDED and record[0][2].startswith("web:api_key:")
            r = await client.post("/operator/readings/exclude", data={**form, "ts": "вчера"})
            dash = await client.get("/operator")
            assert "Укажите время показания" in dash.text
