"""A billing case (spec/billing-case.md) as what the database front end reads: a reference
file for ``uchet load`` and readings for the store, so both front ends can bill the same data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.store import ReadingStore

SOURCE = "mqtt"
#: far enough back that every tariff of a case is valid in each of its periods
SINCE = "2000-01"

Reading = tuple[str, str, datetime, float]  # (meter, channel, ts, value)


def instant(text: str, tz: ZoneInfo) -> datetime:
    """A case timestamp as an aware datetime (a date alone is local midnight)."""
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=tz)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _meter(raw: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"meter": raw["id"], "channel": raw["service"]}
    if raw.get("installed") is not None:
        out["installed"] = instant(raw["installed"], tz).astimezone(tz).date().isoformat()
    if raw.get("capacity_digits") is not None:
        out["capacity_digits"] = raw["capacity_digits"]
    return out


def reference_of(case: Mapping[str, Any]) -> dict[str, Any]:
    tz = ZoneInfo(case.get("timezone", "Europe/Moscow"))
    houses = []
    for h in case["houses"]:
        house = {k: v for k, v in h.items() if k in ("id", "common_area", "soi_excess")}
        house["meters"] = [_meter(m, tz) for m in h.get("meters", [])]
        houses.append(house)
    premises = []
    for n, p in enumerate(case["premises"]):
        premise = {k: v for k, v in p.items() if k != "meters"}
        premise["account"] = f"{n + 1:07d}"
        premise["meters"] = [_meter(m, tz) for m in p.get("meters", [])]
        premises.append(premise)
    doc: dict[str, Any] = {"source": SOURCE, "houses": houses, "premises": premises}
    for table in ("tariffs", "normatives", "soi_normatives"):
        if case.get(table):
            doc[table] = [{"valid_from": SINCE, **case[table]}]
    return doc


def readings_of(case: Mapping[str, Any]) -> list[Reading]:
    tz = ZoneInfo(case.get("timezone", "Europe/Moscow"))
    out = []
    for owner in [*case["houses"], *case["premises"]]:
        for m in owner.get("meters", []):
            for ts, value in m.get("readings", []):
                out.append((m["id"], m["service"], instant(ts, tz), float(value)))
    return out


async def ingest(url: str, readings: Sequence[Reading]) -> None:
    """Writes register readings the way the gateway does: resolve meters, then one batch."""
    store = await ReadingStore.open(url)
    try:
        keys = {(SOURCE, m, c) for m, c, _, _ in readings}
        meters = await store.resolve(list(keys), register=True)
        rows = [(meters[(SOURCE, m, c)].id, ts, v, 0, 0, None) for m, c, ts, v in readings]
        await store.write(rows, [], source=SOURCE)
    finally:
        await store.close()
