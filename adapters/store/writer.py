"""Batched, idempotent writes of readings and quarantine rows (binary COPY, one transaction).

A batch is copied into a per-connection staging table and inserted with ON CONFLICT DO
NOTHING on the natural key (meter, channel, ts) — the meter id stands for (meter, channel).
Keys that already existed are split into duplicates (same value: counted) and conflicts (other
value: the first is kept and the new one recorded in ``conflicts``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import numpy as np

from adapters.store.copy import COLUMNS, encode_rows
from adapters.store.db import connect_pool, store_errors
from adapters.store.partitions import Partitions
from adapters.store.registry import Meter, MeterKey, Registry
from core.batch import NO_END, to_us
from core.errors import StoreError

log = logging.getLogger(__name__)

# (meter_id, ts, value, kind, flags, end_ts)
Row = tuple[int, datetime, float, int, int, datetime | None]


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    source: str
    reason: str
    detail: str
    meter: str | None
    channel: str | None
    payload: bytes


@dataclass(frozen=True, slots=True)
class BatchResult:
    inserted: int
    duplicates: int
    conflicts: int
    quarantined: int  # quarantine rows added (an input already quarantined is not added again)
    superseded: int = 0  # supersede: stored values replaced; older: values kept out


WriteMode = Literal["first", "supersede", "older"]
"""How a key that already holds another value is treated: ``first`` keeps the stored value
and records a conflict; ``supersede`` (a correction, e.g. a later 80020 file) replaces it and
records the correction; ``older`` (data an earlier correction already replaced) keeps the
stored value and counts it as superseded."""


_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS _stage (meter_id integer, ts timestamptz,"
    " value double precision, kind smallint, flags integer, end_ts timestamptz)"
    " ON COMMIT DELETE ROWS;"
    " CREATE TEMP TABLE IF NOT EXISTS _qstage (source text, reason text, detail text,"
    " meter text, channel text, payload bytea, identity bytea) ON COMMIT DELETE ROWS"
)
_QUARANTINE_COLUMNS = ("source", "reason", "detail", "meter", "channel", "payload", "identity")
TEXT_LIMIT = 200
"""Longest meter or channel name kept in a quarantine row (the payload keeps all of it)."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.execute(_STAGE)


def _text(value: str | None, limit: int | None = TEXT_LIMIT) -> str | None:
    """Text PostgreSQL accepts: NUL and lone surrogates shown escaped, cut to ``limit``."""
    if value is None:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if not value.isascii():  # lone surrogates (from a JSON escape) cannot be sent as UTF-8
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    if limit is not None and len(value) > limit:
        value = value[:limit] + f"… ({len(value)} characters)"
    return value


def quarantine_identity(source: str, reason: str, payload: bytes) -> bytes:
    """What makes two quarantine rows the same input (see migration 8)."""
    return hashlib.sha256(source.encode() + b"\x00" + reason.encode() + b"\x00" + payload).digest()


def _quarantine_record(q: QuarantineRow) -> tuple[object, ...]:
    return (
        _text(q.source), q.reason, _text(q.detail, 2000), _text(q.meter), _text(q.channel),
        q.payload, quarantine_identity(q.source, q.reason, q.payload),
    )  # fmt: skip


class ReadingStore:
    """The store as the pipeline sees it: resolve meters, read last values, write batches."""

    def __init__(self, pool: asyncpg.Pool, *, physical: str) -> None:
        self.pool = pool
        self.physical = physical
        self.native = not physical.startswith("timescaledb")
        self.registry = Registry()
        self._partitions = Partitions()

    @classmethod
    async def open(cls, url: str, *, max_size: int = 4) -> ReadingStore:
        pool = await connect_pool(url, max_size=max_size, init=_init_connection)
        async with store_errors("open store"), pool.acquire() as conn:
            physical = (
                await conn.fetchval("SELECT value FROM uchet_meta WHERE key = 'physical'")
                if await conn.fetchval("SELECT to_regclass('uchet_meta')")
                else None
            )
        if physical is None:
            await pool.close()
            raise StoreError(
                "the database has no uchet schema: run `uchet migrate`", retryable=False
            )
        return cls(pool, physical=physical)

    async def close(self) -> None:
        await self.pool.close()

    async def resolve(self, keys: Sequence[MeterKey], *, register: bool) -> dict[MeterKey, Meter]:
        async with store_errors("resolve meters"), self.pool.acquire() as conn:
            return await self.registry.resolve(conn, keys, register=register)

    async def last_registers(self, meter_ids: Sequence[int]) -> dict[int, tuple[datetime, float]]:
        """The newest stored register reading of each meter."""
        async with store_errors("read last values"), self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT m.id, r.ts, r.value FROM unnest($1::integer[]) AS m(id)"
                " CROSS JOIN LATERAL (SELECT ts, value FROM readings"
                "   WHERE meter_id = m.id AND kind = 0 ORDER BY ts DESC LIMIT 1) r",
                list(meter_ids),
            )
        return {r["id"]: (r["ts"], r["value"]) for r in rows}

    async def neighbours(
        self, keys: Sequence[tuple[int, datetime]]
    ) -> dict[tuple[int, datetime], tuple[tuple[datetime, float] | None, float | None, bool]]:
        """For back-filled readings: the stored register readings just before and after ts,
        and whether a reading is stored at ts itself (then the write decides: duplicate or
        conflict)."""
        async with store_errors("read neighbours"), self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT k.id, k.ts, b.ts AS before_ts, b.value AS before,"
                " (SELECT value FROM readings WHERE meter_id = k.id AND kind = 0 AND ts > k.ts"
                "  ORDER BY ts LIMIT 1) AS after,"
                " EXISTS (SELECT 1 FROM readings WHERE meter_id = k.id AND ts = k.ts) AS taken"
                " FROM unnest($1::integer[], $2::timestamptz[]) AS k(id, ts)"
                " LEFT JOIN LATERAL (SELECT ts, value FROM readings WHERE meter_id = k.id"
                "  AND kind = 0 AND ts < k.ts ORDER BY ts DESC LIMIT 1) b ON true",
                [k[0] for k in keys],
                [k[1] for k in keys],
            )
        return {
            (r["id"], r["ts"]): (
                (r["before_ts"], r["before"]) if r["before_ts"] is not None else None,
                r["after"],
                r["taken"],
            )
            for r in rows
        }

    async def write(
        self, rows: Sequence[Row], quarantine: Sequence[QuarantineRow], *, source: str
    ) -> BatchResult:
        """Writes rows given as tuples (see :meth:`write_arrays`)."""
        n = len(rows)
        return await self.write_arrays(
            np.fromiter((r[0] for r in rows), dtype=np.int32, count=n),
            np.fromiter((to_us(r[1]) for r in rows), dtype=np.int64, count=n),
            np.fromiter((r[2] for r in rows), dtype=np.float64, count=n),
            np.fromiter((r[3] for r in rows), dtype=np.int16, count=n),
            np.fromiter((r[4] for r in rows), dtype=np.int32, count=n),
            np.fromiter(
                (to_us(r[5]) if r[5] is not None else NO_END for r in rows),
                dtype=np.int64,
                count=n,
            ),
            quarantine,
            source=source,
        )

    async def write_arrays(
        self,
        meter: np.ndarray,
        ts_us: np.ndarray,
        value: np.ndarray,
        kind: np.ndarray,
        flags: np.ndarray,
        end_us: np.ndarray | None,
        quarantine: Sequence[QuarantineRow],
        *,
        source: str,
        mode: WriteMode = "first",
        correction_ref: int | None = None,
    ) -> BatchResult:
        """Writes one batch in one transaction (binary COPY).

        Rows may repeat a key, within the batch or with stored rows: then the batch goes
        through a staging table, ON CONFLICT DO NOTHING keeps the first, and a join sorts the
        rest into duplicates (same value) and conflicts (another value, recorded).
        """
        n = len(meter)
        inserted = conflicts = superseded = 0
        async with store_errors("write batch"), self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    if n:
                        if self.native:
                            months = np.unique(
                                ts_us.astype("datetime64[us]").astype("datetime64[M]")
                            )
                            await self._partitions.ensure(
                                conn,
                                (
                                    datetime.fromisoformat(f"{m}-01").replace(tzinfo=UTC)
                                    for m in months.astype(str)
                                ),
                            )
                        stream = encode_rows(meter, ts_us, value, kind, flags, end_us)
                        try:
                            # New readings are the common case: COPY straight into the table.
                            async with conn.transaction():  # a savepoint
                                await conn.copy_to_table(
                                    "readings",
                                    source=io.BytesIO(stream),
                                    columns=COLUMNS,
                                    format="binary",
                                )
                            inserted = n
                        except asyncpg.UniqueViolationError:
                            # Some keys exist (re-delivery, replay): stage, insert the new
                            # ones, sort the rest into duplicates and conflicts.
                            await conn.copy_to_table(
                                "_stage",
                                source=io.BytesIO(stream),
                                columns=COLUMNS,
                                format="binary",
                            )
                            status = await conn.execute(
                                "INSERT INTO readings (meter_id, ts, value, kind, flags, end_ts)"
                                " SELECT meter_id, ts, value, kind, flags, end_ts FROM _stage"
                                " ON CONFLICT (meter_id, ts) DO NOTHING"
                            )
                            inserted = int(status.rsplit(" ", 1)[1])
                            if inserted < n and mode == "first":
                                conflicts = await self._record_conflicts(conn, source)
                            elif inserted < n and mode == "older":
                                superseded = await self._count_different(conn)
                            elif inserted < n:
                                superseded = await self._supersede(conn, correction_ref)
                    quarantined = 0
                    if quarantine:
                        # A redelivered input is quarantined once (unique identity).
                        await conn.copy_records_to_table(
                            "_qstage",
                            records=[_quarantine_record(q) for q in quarantine],
                            columns=_QUARANTINE_COLUMNS,
                        )
                        status = await conn.execute(
                            "INSERT INTO quarantine (source, reason, detail, meter, channel,"
                            " payload, identity) SELECT * FROM _qstage"
                            " ON CONFLICT (identity) WHERE replayed_at IS NULL DO NOTHING"
                        )
                        quarantined = int(status.rsplit(" ", 1)[1])
                    duplicates = n - inserted - conflicts - superseded
                    if duplicates:
                        await conn.execute(
                            "INSERT INTO ingest_counters (name, value) VALUES ('duplicates', $1)"
                            " ON CONFLICT (name) DO UPDATE"
                            " SET value = ingest_counters.value + excluded.value",
                            duplicates,
                        )
            except BaseException:
                self._partitions.rolled_back()
                raise
            self._partitions.committed()
        return BatchResult(inserted, duplicates, conflicts, quarantined, superseded)

    async def _count_different(self, conn: asyncpg.Connection) -> int:
        await conn.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM _stage s JOIN readings r"
                " ON r.meter_id = s.meter_id AND r.ts = s.ts WHERE r.value <> s.value"
            )
        )

    async def _supersede(self, conn: asyncpg.Connection, ref: int | None) -> int:
        """Replaces stored values that the staged rows correct, recording old and new."""
        await conn.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        status = await conn.execute(
            "WITH changed AS (SELECT DISTINCT ON (s.meter_id, s.ts) s.meter_id, s.ts,"
            "   r.value AS old_value, s.value, s.flags, s.end_ts FROM _stage s"
            "   JOIN readings r ON r.meter_id = s.meter_id AND r.ts = s.ts"
            "   WHERE r.value <> s.value OR r.flags <> s.flags),"
            " logged AS (INSERT INTO corrections (meter_id, ts, old_value, new_value, ref)"
            "   SELECT meter_id, ts, old_value, value, $1 FROM changed)"
            " UPDATE readings r SET value = c.value, flags = c.flags, end_ts = c.end_ts,"
            "   received_at = now() FROM changed c"
            " WHERE r.meter_id = c.meter_id AND r.ts = c.ts",
            ref,
        )
        return int(status.rsplit(" ", 1)[1])

    async def _record_conflicts(self, conn: asyncpg.Connection, source: str) -> int:
        # The staging table has no statistics: force index lookups into readings, never a
        # hash join that would scan every partition.
        await conn.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        status = await conn.execute(
            "INSERT INTO conflicts (meter_id, ts, stored_value, new_value, source)"
            " SELECT s.meter_id, s.ts, r.value, s.value, $1 FROM _stage s"
            " JOIN readings r ON r.meter_id = s.meter_id AND r.ts = s.ts"
            " WHERE r.value <> s.value"
            " ON CONFLICT (meter_id, ts, new_value) DO NOTHING",  # the same input again
            source,
        )
        return int(status.rsplit(" ", 1)[1])

    async def stats(self) -> dict[str, object]:
        """The counters of ``uchet stats --json``."""
        async with store_errors("stats"), self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM readings) AS readings,"
                " (SELECT count(*) FROM meters) AS meters,"
                " (SELECT count(*) FROM meters WHERE premise_id IS NULL AND house_id IS NULL)"
                " AS unbound,"
                " (SELECT coalesce(sum(value), 0) FROM ingest_counters"
                "   WHERE name = 'duplicates') AS duplicates,"
                " (SELECT count(*) FROM conflicts) AS conflicts"
            )
            reasons = await conn.fetch(
                "SELECT reason, count(*) AS n FROM quarantine WHERE replayed_at IS NULL"
                " GROUP BY reason ORDER BY reason"
            )
            devices = await conn.fetch(
                "SELECT source, state, count(*) AS n FROM device_health GROUP BY 1, 2"
            )
            sources = await conn.fetch(
                "SELECT gateway, source, state, restarts, last_error, updated_at"
                " FROM source_health ORDER BY gateway, source"
            )
            offline = await conn.fetch(
                "SELECT source, device, bus, since, last_error FROM device_health"
                " WHERE state = 'offline' ORDER BY since LIMIT 50"
            )
        assert row is not None
        return {
            "readings": row["readings"],
            "quarantined": {r["reason"]: r["n"] for r in reasons},
            "duplicates": int(row["duplicates"]),
            "conflicts": row["conflicts"],
            "meters": row["meters"],
            "unbound_meters": row["unbound"],
            "devices": {
                src: {r["state"]: r["n"] for r in devices if r["source"] == src}
                for src in sorted({r["source"] for r in devices})
            },
            "sources": {
                gw: {
                    r["source"]: {
                        "state": r["state"],
                        "restarts": r["restarts"],
                        "last_error": r["last_error"],
                        "updated_at": r["updated_at"].isoformat(),
                    }
                    for r in sources
                    if r["gateway"] == gw
                }
                for gw in sorted({r["gateway"] for r in sources})
            },
            "offline_devices": [
                {
                    "source": r["source"],
                    "device": r["device"],
                    "bus": r["bus"],
                    "since": r["since"].isoformat(),
                    "last_error": r["last_error"],
                }
                for r in offline
            ],
        }

    async def save_source_health(self, gateway: str, sources: dict[str, dict[str, Any]]) -> None:
        """Upserts the supervised sources' health of one gateway (see ``ingest.supervisor``)."""
        async with store_errors("source health"), self.pool.acquire() as conn:
            await conn.executemany(
                "INSERT INTO source_health (gateway, source, state, restarts, last_error, since,"
                " detail, updated_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::jsonb,"
                " now()) ON CONFLICT (gateway, source) DO UPDATE SET state = excluded.state,"
                " restarts = excluded.restarts, last_error = excluded.last_error,"
                " since = excluded.since, detail = excluded.detail, updated_at = now()",
                [
                    (
                        gateway, name, h["state"], h["restarts"], _text(h["last_error"], 2000),
                        datetime.fromisoformat(h["since"]),
                        json.dumps(h.get("detail", {}), default=str),
                    )
                    for name, h in sources.items()
                ],
            )  # fmt: skip

    async def save_device_health(self, source: str, gateway: str, health: Sequence[Any]) -> None:
        """Upserts the health of polled devices (``adapters.modbus.poller.DeviceHealth``)."""
        async with store_errors("device health"), self.pool.acquire() as conn:
            await conn.executemany(
                "INSERT INTO device_health (source, device, bus, state, since,"
                " consecutive_failures, last_error, last_success, requests, gateway, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())"
                " ON CONFLICT (source, device) DO UPDATE SET bus = excluded.bus,"
                " state = excluded.state, since = excluded.since,"
                " consecutive_failures = excluded.consecutive_failures,"
                " last_error = excluded.last_error, last_success = excluded.last_success,"
                " requests = excluded.requests, gateway = excluded.gateway, updated_at = now()",
                [
                    (
                        source, h.meter, h.bus, h.state, h.since, h.consecutive_failures,
                        h.last_error, h.last_success, h.requests, gateway,
                    )
                    for h in health
                ],
            )  # fmt: skip
