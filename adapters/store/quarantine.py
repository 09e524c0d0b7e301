"""The quarantine as operators read it (the CLI and the API): rows waiting to be replayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.store.connections import Connection
from adapters.store.db import store_errors


@dataclass(frozen=True, slots=True)
class Held:
    id: int
    received_at: datetime
    source: str
    reason: str
    detail: str
    meter: str | None
    channel: str | None
    payload: bytes


async def list_quarantine(
    conn: Connection, *, reason: str | None = None, limit: int = 1000
) -> list[Held]:
    """Rows not yet replayed, newest first; ``reason``: only those of that reason."""
    async with store_errors("list quarantine"):
        rows = await conn.fetch(
            "SELECT id, received_at, source, reason, detail, meter, channel, payload"
            " FROM quarantine WHERE replayed_at IS NULL AND ($1::text IS NULL OR reason = $1)"
            " ORDER BY id DESC LIMIT $2",
            reason,
            limit,
        )
    return [Held(**{**dict(r), "payload": bytes(r["payload"])}) for r in rows]


async def unknown_ids(conn: Connection, ids: list[int]) -> list[int]:
    """Those of ``ids`` that are no quarantine row waiting to be replayed."""
    async with store_errors("find quarantine"):
        rows = await conn.fetch(
            "SELECT id FROM quarantine WHERE id = ANY($1::bigint[]) AND replayed_at IS NULL",
            ids,
        )
    held = {r["id"] for r in rows}
    return [i for i in ids if i not in held]
