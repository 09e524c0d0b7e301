"""``uchet meters`` / ``quarantine`` / ``stats`` against a real PostgreSQL (issue #20 fixes):
a misspelled meter is refused with close names, lists do not stop at 1,000 silently, a replay
that names nothing is an error, house meters are bound."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from api.cli import main
from api.runtime import migrate_url

pytestmark = pytest.mark.postgres


async def _seed(db_url: str, sql: str, *args: object) -> None:
    await migrate_url(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "INSERT INTO houses (id, common_area) VALUES ('h1', 100);"
            "INSERT INTO premises (id, house_id, area) VALUES ('apt9', 'h1', 50)"
        )
        if sql:
            await conn.execute(sql, *args)
    finally:
        await conn.close()


async def _meters(db_url: str) -> list[tuple[str, str | None, str | None]]:
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch("SELECT external_id, premise_id, house_id FROM meters ORDER BY id")
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


async def _cli(monkeypatch, db_url: str, *argv: str) -> int:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    return await asyncio.to_thread(main, list(argv))  # the CLI runs its own event loop


_ONE_METER = (
    "INSERT INTO meters (source, external_id, channel, service, unit)"
    " VALUES ('mqtt', 'apt9-cw', 'cold_water', 'cold_water', 'm3')"
)


async def test_bind_refuses_a_misspelled_meter_and_names_close_ones(db_url, monkeypatch, capsys):
    await _seed(db_url, _ONE_METER)
    code = await _cli(
        monkeypatch, db_url, "meters", "bind", "mqtt:apt9-cv:cold_water", "--premise", "apt9"
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "no such meter 'mqtt:apt9-cv:cold_water'" in err
    assert "did you mean mqtt:apt9-cw:cold_water" in err
    assert await _meters(db_url) == [("apt9-cw", None, None)]  # no phantom meter

    code = await _cli(monkeypatch, db_url, "meters", "bind", "mqtt:apt9-cv", "--premise", "apt9")
    assert code == 2 and "mqtt:apt9-cw:cold_water" in capsys.readouterr().err

    # the right name binds; --create registers a meter nothing has reported yet
    assert (
        await _cli(
            monkeypatch,
            db_url,
            "meters",
            "bind",
            "mqtt:apt9-cw",
            "--premise",
            "apt9",
            "--no-replay",
        )
        == 0
    )
    assert await _cli(
        monkeypatch, db_url, "meters", "bind", "mqtt:h1-odpu:cold_water", "--house", "h1",
        "--create", "--no-replay",
    ) == 0  # fmt: skip
    assert await _meters(db_url) == [("apt9-cw", "apt9", None), ("h1-odpu", None, "h1")]


async def test_meters_list_pages_past_a_thousand_and_says_when_limited(db_url, monkeypatch, capsys):
    await _seed(
        db_url,
        "INSERT INTO meters (source, external_id, channel, service, unit)"
        " SELECT 'mqtt', 'm' || i, 'cold_water', 'cold_water', 'm3'"
        " FROM generate_series(1, 1205) AS i",
    )
    capsys.readouterr()
    assert await _cli(monkeypatch, db_url, "meters", "list", "--json") == 0
    out = capsys.readouterr()
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert len(rows) == 1205 and len({r["id"] for r in rows}) == 1205
    assert out.err == ""

    assert await _cli(monkeypatch, db_url, "meters", "list", "--limit", "1000") == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 1000
    assert "показано счётчиков: 1000 " in out.err and "--offset 1000" in out.err

    assert await _cli(monkeypatch, db_url, "meters", "list", "--offset", "1200") == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 5 and out.err == ""


async def test_quarantine_replay_that_names_nothing_fails(db_url, monkeypatch, capsys):
    await _seed(db_url, _ONE_METER)
    capsys.readouterr()
    assert await _cli(monkeypatch, db_url, "quarantine", "replay") == 2
    assert "name what to replay" in capsys.readouterr().err
    assert await _cli(monkeypatch, db_url, "quarantine", "replay", "--id", "424242") == 2
    assert "424242" in capsys.readouterr().err
    assert await _cli(monkeypatch, db_url, "quarantine", "replay", "--meter", "mqtt:apt9-cv") == 2
    err = capsys.readouterr().err
    assert "no such meter 'mqtt:apt9-cv'" in err and "mqtt:apt9-cw:cold_water" in err
    # a known meter with nothing in quarantine: a replay of nothing, not an error
    assert await _cli(monkeypatch, db_url, "quarantine", "replay", "--meter", "mqtt:apt9-cw") == 0
    assert '"replayed": 0' in capsys.readouterr().out


async def test_stats_counts_house_meters_as_bound(db_url, monkeypatch, capsys):
    await _seed(
        db_url,
        "INSERT INTO meters (source, external_id, channel, service, unit, premise_id, house_id)"
        " VALUES ('mqtt', 'a', 'cold_water', 'cold_water', 'm3', 'apt9', NULL),"
        "  ('mqtt', 'odpu', 'cold_water', 'cold_water', 'm3', NULL, 'h1'),"
        "  ('mqtt', 'stray', 'cold_water', 'cold_water', 'm3', NULL, NULL)",
    )
    capsys.readouterr()
    assert await _cli(monkeypatch, db_url, "stats", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["meters"], stats["unbound_meters"]) == (3, 1)
    assert await _cli(monkeypatch, db_url, "meters", "list", "--unbound", "--json") == 0
    unbound = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [m["external_id"] for m in unbound] == ["stray"]
