"""Operator meter management through the API: search, filters, paging with a total, counts
that agree with ``uchet stats``, and binding many meters from a CSV file (every line checked,
the good ones bound and their quarantine replayed, the bad ones reported by line)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from adapters.store.meters import list_meters
from adapters.store.writer import QuarantineRow
from tests.api.conftest import Env

pytestmark = pytest.mark.postgres

# (source, serial, channel, service, premise, house) added to the example house's meters
EXTRA = [
    ("mqtt", "a_b-1", "cold_water", "cold_water", None, None),
    ("mqtt", "axb-2", "cold_water", "cold_water", None, None),
    ("mqtt", "new-el", "1.8.0", "electricity", None, None),
    ("mqtt", "new-el", "2.8.0", "electricity", None, None),
    ("askue", "77001", "1-0:1.8.0", "electricity", None, None),
]


async def _add(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "INSERT INTO meters (source, external_id, channel, service, unit, premise_id,"
            " house_id) VALUES ($1, $2, $3, $4, 'm3', $5, $6)",
            EXTRA,
        )
        rows = await conn.fetch("SELECT id, source, external_id, channel FROM meters")
    finally:
        await conn.close()
    return {f"{r['source']}:{r['external_id']}:{r['channel']}": r["id"] for r in rows}


async def _quarantine(env: Env, serial: str, channel: str, value: float) -> None:
    store = env.app.state.services.store
    payload = json.dumps(
        {"meter": serial, "channel": channel, "value": value, "unit": "m3",
         "ts": (datetime.now(UTC) - timedelta(hours=2)).isoformat()}
    ).encode()  # fmt: skip
    await store.write(
        [],
        [QuarantineRow("mqtt", "unknown_meter", "unknown", serial, channel, payload)],
        source="mqtt",
    )


async def _find(env: Env, **params: object) -> tuple[list[str], int]:
    r = await env.client.get("/v1/operator/meters", params=params, headers=env.viewer)
    assert r.status_code == 200, r.text
    return [f"{m['source']}:{m['serial']}:{m['channel']}" for m in r.json()], int(
        r.headers["X-Total-Count"]
    )


async def test_search_filters_and_paging(env: Env) -> None:
    ids = await _add(env.url)
    await _quarantine(env, "axb-2", "cold_water", 1.5)
    # a prefix of the serial; "_" is a literal, not LIKE's any-character
    assert (await _find(env, q="a_b"))[0] == ["mqtt:a_b-1:cold_water"]
    assert (await _find(env, q="ax"))[0] == ["mqtt:axb-2:cold_water"]
    # source:serial (all channels), and with the channel
    assert (await _find(env, q="mqtt:new-el"))[1] == 2
    assert (await _find(env, q="mqtt:new-el:2.8"))[0] == ["mqtt:new-el:2.8.0"]
    assert (await _find(env, q="mqtt:apt1-el:1.8.0"))[0] == ["mqtt:apt1-el:1-0:1.8.0"]
    # a registry id exactly
    meter = ids["askue:77001:1-0:1.8.0"]
    assert (await _find(env, q=str(meter)))[0] == ["askue:77001:1-0:1.8.0"]
    # a premise (its start), a house: the house meters and those of its premises
    assert set((await _find(env, q="h1-1"))[0]) == {
        "mqtt:apt1-cw:cold_water", "mqtt:apt1-hw:hot_water", "mqtt:apt1-el:1-0:1.8.0",
    }  # fmt: skip
    house, n_house = await _find(env, q="h1", limit=1000)
    bound_total = (await _find(env, unbound="false"))[1]
    assert n_house == bound_total == len(house)  # every bound meter is in house h1
    # filters: unbound, service, with quarantine; combined with the search
    unbound, n_unbound = await _find(env, unbound="true")
    assert n_unbound == len(EXTRA) and set(unbound) == {f"{s}:{e}:{c}" for s, e, c, *_ in EXTRA}
    assert (await _find(env, unbound="true", service="cold_water"))[1] == 2
    assert (await _find(env, quarantined="true"))[0] == ["mqtt:axb-2:cold_water"]
    assert (await _find(env, q="a", quarantined="true"))[1] == 1
    # paging by id: pages do not overlap, the total is the same on every page
    everything, total = await _find(env, limit=1000)
    pages = [await _find(env, limit=3, offset=o) for o in range(0, total, 3)]
    assert [k for p, _ in pages for k in p] == everything
    assert {n for _, n in pages} == {total}
    r = await env.client.get("/v1/operator/meters?service=water", headers=env.viewer)
    assert r.status_code == 422


async def test_counts_agree_with_stats_and_the_cli_listing(env: Env) -> None:
    await _add(env.url)
    store = env.app.state.services.store
    stats = await store.stats()
    r = await env.client.get("/v1/operator/meters/counts", headers=env.viewer)
    counts = r.json()
    async with store.pool.acquire() as conn:  # what `uchet meters list --unbound` lists
        listed = await list_meters(conn, unbound=True, limit=10_000)
    _, api_unbound = await _find(env, unbound="true")
    # the house meters (ОДПУ h1-el, h1-cw) are bound: to the house
    assert counts["unbound"] == stats["unbound_meters"] == len(listed) == api_unbound
    assert counts["meters"] == stats["meters"] == counts["bound"] + counts["unbound"]
    house_meters = (await _find(env, q="h1-cw"))[0]
    assert house_meters == ["mqtt:h1-cw:cold_water"]
    assert not {"mqtt:h1-cw:cold_water", "mqtt:h1-el:1-0:1.8.0"} & {
        f"{m.source}:{m.external_id}:{m.channel}" for m in listed
    }


CSV = """meter;premise;house;service
mqtt:a_b-1:cold_water;h1-2;;
{axb};h1-2;;
mqtt:new-el;;h1;electricity
mqtt:no-such-meter:cold_water;h1-2;;
askue:77001;nowhere;;
mqtt:a_b-1:cold_water;h1-3;;
askue:77001;h1-2;h1;

{axb};h1-4;;heating
askue:77001;;;
"""


async def test_bulk_bind_checks_every_line_and_binds_the_good_ones(env: Env) -> None:
    ids = await _add(env.url)
    await _quarantine(env, "axb-2", "cold_water", 2.25)
    text = CSV.format(axb=ids["mqtt:axb-2:cold_water"]).encode()
    url = "/v1/operator/meters/bind-csv"
    viewer = await env.client.post(url, content=text, headers=env.viewer)
    assert viewer.status_code == 403

    dry = await env.client.post(url + "?dry_run=true", content=text, headers=env.operator)
    assert dry.status_code == 200, dry.text
    assert dry.json()["bound_lines"] == 3 and dry.json()["replay"] is None
    assert (await _find(env, unbound="true"))[1] == len(EXTRA)  # nothing bound

    r = await env.client.post(url, content=text, headers=env.operator)
    body = r.json()
    assert body["lines"] == 9 and body["bound_lines"] == 3 and body["bound_meters"] == 4
    errors = {(e["line"], e["field"]) for e in body["errors"]}
    assert errors == {
        (5, "meter"),  # not in the registry: not created
        (6, "premise"),  # no such premise
        (7, "meter"),  # the same meter as line 2
        (8, "premise"),  # both a premise and a house
        (10, "service"),  # not a heating meter
        (11, "premise"),  # neither
    }, body["errors"]
    line7 = next(e for e in body["errors"] if e["line"] == 7)
    assert "строке 2" in line7["message"]
    assert body["replay"]["replayed"] == 1 and body["replay"]["stored"] == 1
    unbound, _ = await _find(env, unbound="true")
    assert unbound == ["askue:77001:1-0:1.8.0"]
    found, _ = await _find(env, q="mqtt:new-el")
    r = await env.client.get("/v1/operator/meters?q=mqtt:new-el", headers=env.viewer)
    assert {m["house"] for m in r.json()} == {"h1"} and len(found) == 2


@pytest.mark.parametrize(
    ("content", "status", "where"),
    [
        (b"", 422, None),
        (b"serial;flat\nx;y\n", 200, [(1, "header")]),
        ("счётчик;помещение\n77001;h1-2\n".encode("cp1251"), 200, [(2, "meter")]),
        # 0x98 is in neither UTF-8 (here) nor Windows-1251: the line of the byte
        ("счётчик;помещение\n1;h1-2\n2;h1".encode("cp1251") + b"\x98\n", 200, [(3, "file")]),
        (b'meter;premise\n"' + b"x" * 140_000 + b'";h1-2\n9;h1-2\n', 200,
         [(2, "line")]),  # a field over the csv module's limit: the reading stops there
        (b"meter;premise\nmqtt:a\x00b:cold_water;h1-2\n", 200, [(2, "meter")]),
        (b"meter;house\n77001;h\x001\n", 200, [(2, "house")]),
        (b'meter;premise\n"mqtt:x\ny";h1-2\n\nno such;h1-2\n', 200, [(2, "meter"), (5, "meter")]),
    ],
)  # fmt: skip
async def test_bulk_bind_reports_a_bad_file(
    env: Env, content: bytes, status: int, where: list[tuple[int, str]] | None
) -> None:
    r = await env.client.post("/v1/operator/meters/bind-csv", content=content, headers=env.operator)
    assert r.status_code == status, r.text
    if where is not None:
        assert [(e["line"], e["field"]) for e in r.json()["errors"]] == where, r.json()["errors"]
        assert r.json()["bound_lines"] == 0


async def test_search_by_the_last_characters_before_a_gap_or_the_end(env: Env) -> None:
    # U+D7FF is followed by the surrogates (no characters): the range ends at U+E000;
    # U+10FFFF, the last code point, has no next one: an open range
    serials = ["\ud7ff-1", "\ud7ffz", "\ue000-1", "\U0010ffff-1", "\U0010fffe-1"]
    conn = await asyncpg.connect(env.url)
    try:
        await conn.executemany(
            "INSERT INTO meters (source, external_id, channel, service, unit)"
            " VALUES ('mqtt', $1, 'v', 'cold_water', 'm3')",
            [(s,) for s in serials],
        )
    finally:
        await conn.close()
    for raw, found in (
        ("%ED%9F%BF", {"\ud7ff-1", "\ud7ffz"}),
        ("%EE%80%80", {"\ue000-1"}),
        ("%F4%8F%BF%BF", {"\U0010ffff-1"}),
        ("%F4%8F%BF%BE", {"\U0010fffe-1"}),
    ):
        r = await env.client.get(f"/v1/operator/meters?q={raw}", headers=env.viewer)
        assert r.status_code == 200, (raw, r.text)
        assert {m["serial"] for m in r.json()} == found, raw
