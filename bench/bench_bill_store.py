"""`uchet bill` from the store, end to end: N premises loaded with COPY, months of readings,
the period billed with the time split between loading, computing and writing.

    python bench/bench_bill_store.py [--premises 100000] [--months 8] [--sample 500] [--seed 1]

A fresh database is created from UCHET_TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test) and dropped afterwards. The month before the period
is billed first, so the timed run reverses stored estimates (recalculation) like a real one;
the period is then billed again (the idempotent re-run writes a new partition of the period
and swaps it in for the old one).
Baselines, measured in the same run: a bare binary COPY of the same accrual rows (prebuilt)
into a table like ``accruals`` (for the write), and a loader that queries per premise
(premise, its meters, each meter's month-end registers), timed on ``--sample`` premises and
scaled to N (for the load).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.store.billing_accruals import accrual_stream
from adapters.store.billing_partition import ACCRUAL_COLUMNS
from adapters.store.billing_period import month_start
from adapters.store.copy import COLUMNS, encode_rows
from adapters.store.partitions import Partitions
from api.runtime import migrate_url
from core.billing import METHODS, month_index, month_name
from core.channels import canonical_unit
from ingest.billing import BillReport, bill_period

ADMIN_URL = os.environ.get("UCHET_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TZ = "Europe/Moscow"
PERIOD = month_index(2026, 3)
PER_HOUSE = 40
METERED = (("cold_water", 0.7, 0.35), ("hot_water", 0.7, 0.25), ("electricity", 0.85, 150.0))


def _with_db(url: str, name: str) -> str:
    return f"{url.rpartition('/')[0]}/{name}"


async def _populate(url: str, n: int, months: int, seed: int) -> tuple[int, int]:
    """Houses, premises, meters, rates and readings, all with COPY; returns (meters, readings)."""
    rng = np.random.default_rng(seed)
    tz = ZoneInfo(TZ)
    nh = max(1, n // PER_HOUSE)
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "houses",
            records=[
                (f"h{i:06d}", Decimal(int(rng.integers(300, 3000))), "operator") for i in range(nh)
            ],
            columns=("id", "common_area", "soi_excess"),
        )
        area = rng.integers(250, 1200, n)  # tenths of m²
        residents = rng.integers(0, 5, n)
        owners = rng.integers(1, 3, n)
        residential = rng.random(n) < 0.97
        possible = rng.random(n) < 0.9
        pids = [f"p{i:07d}" for i in range(n)]
        await conn.copy_records_to_table(
            "premises",
            records=[
                (
                    pids[i],
                    f"h{i // PER_HOUSE % nh:06d}",
                    f"{i:010d}",
                    Decimal(int(area[i])).scaleb(-1),
                    bool(residential[i]),
                    int(residents[i]),
                    int(owners[i]),
                    bool(possible[i]),
                )
                for i in range(n)
            ],
            columns=(
                "id",
                "house_id",
                "account",
                "area",
                "residential",
                "residents",
                "owners",
                "meter_possible",
            ),
        )
        meters: list[tuple[object, ...]] = []
        kinds: list[tuple[str, float]] = []  # (service, monthly consumption)
        for service, share, monthly in METERED:
            for i in np.flatnonzero(rng.random(n) < share).tolist():
                unit = canonical_unit(service)
                meters.append(
                    ("bench", f"{pids[i]}-{service}", service, service, unit, pids[i], None)
                )
                kinds.append((service, monthly))
        for h in range(nh):
            for service, monthly in (("electricity", 150.0 * PER_HOUSE), ("cold_water", 12.0)):
                unit = canonical_unit(service)
                meters.append(
                    ("bench", f"h{h:06d}-{service}", service, service, unit, None, f"h{h:06d}")
                )
                kinds.append((service, monthly))
        await conn.copy_records_to_table(
            "meters",
            records=meters,
            columns=(
                "source",
                "external_id",
                "channel",
                "service",
                "unit",
                "premise_id",
                "house_id",
            ),
        )
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM meters ORDER BY id")]
        first = PERIOD - months + 1
        starts = [month_start(m, tz) for m in range(first, PERIOD + 1)]
        async with conn.transaction():
            days = [s + timedelta(days=d) for s in starts for d in (0, 20)]
            await Partitions().ensure(
                conn, {datetime(d.year, d.month, 1, tzinfo=UTC) for d in days}
            )
        # per meter: a start value, a month it stops reporting for good (3 %), a gamma
        # consumption per month and a reading on the 20th in 90 % of the months
        m = len(ids)
        monthly = np.array([k[1] for k in kinds])
        value = rng.integers(0, 50_000, m) / 10
        silent = rng.random(m) < 0.03
        stop = np.where(silent, rng.integers(first, PERIOD + 1, m), PERIOD + 1)
        use = rng.gamma(4.0, 1.0, (m, months)) * (monthly / 4.0)[:, None]
        values = np.round(value[:, None] + np.cumsum(use, axis=1), 3)
        seen = (rng.random((m, months)) < 0.9) & (
            np.arange(first, PERIOD + 1)[None, :] < stop[:, None]
        )
        day19 = np.array([(s + timedelta(days=19)).timestamp() * 1e6 for s in starts], np.int64)
        ts = day19[None, :] + rng.integers(0, 24, (m, months)) * 3_600_000_000
        meter = np.repeat(np.array(ids, dtype=np.int64), months).reshape(m, months)
        rows = (meter[seen], ts[seen], values[seen])
        n_rows = rows[0].size
        zeros = np.zeros(n_rows, dtype=np.int64)
        await conn.copy_to_table(
            "readings",
            source=io.BytesIO(encode_rows(*rows, zeros, zeros)),
            columns=COLUMNS,
            format="binary",
        )
        await conn.executemany(
            "INSERT INTO tariffs (service, valid_from, value) VALUES ($1, '2025-01-01', $2)",
            [
                ("cold_water", D("50.00")),
                ("hot_water", D("210.00")),
                ("sewage", D("40.05")),
                ("electricity", D("5.00")),
            ],
        )
        await conn.executemany(
            "INSERT INTO normatives (service, valid_from, value) VALUES ($1, '2025-01-01', $2)",
            [("cold_water", D("6.935")), ("hot_water", D("4.745")), ("electricity", D("46"))],
        )
        await conn.executemany(
            "INSERT INTO soi_normatives (service, valid_from, value) VALUES ($1, '2025-01-01', $2)",
            [("cold_water", D("0.03")), ("electricity", D("1.2"))],
        )
        await conn.execute("ANALYZE")
        return len(meters), n_rows
    finally:
        await conn.close()


async def _naive_load(url: str, sample: int) -> float:
    """Seconds per premise of a loader that asks the database premise by premise."""
    conn = await asyncpg.connect(url)
    try:
        pids = [r["id"] for r in await conn.fetch("SELECT id FROM premises LIMIT $1", sample)]
        lo = month_start(PERIOD - 12, ZoneInfo(TZ))
        hi = month_start(PERIOD + 1, ZoneInfo(TZ))
        t0 = time.perf_counter()
        for pid in pids:
            await conn.fetchrow("SELECT * FROM premises WHERE id = $1", pid)
            for m in await conn.fetch("SELECT id FROM meters WHERE premise_id = $1", pid):
                await conn.fetch(
                    "SELECT DISTINCT ON (date_trunc('month', ts AT TIME ZONE $4)) ts, value"
                    " FROM readings WHERE meter_id = $1 AND kind = 0 AND ts >= $2 AND ts < $3"
                    " ORDER BY date_trunc('month', ts AT TIME ZONE $4), ts DESC",
                    m["id"],
                    lo,
                    hi,
                    TZ,
                )
        return (time.perf_counter() - t0) / max(1, len(pids))
    finally:
        await conn.close()


async def _bare_copy(url: str, report: BillReport) -> float:
    """Seconds of a bare binary COPY of the same accrual rows (payload built beforehand) into
    an empty table like ``accruals`` (same columns and primary key, logged like it: a temp
    table would skip the WAL and flatter the baseline)."""
    assert report.result is not None
    chunks = list(accrual_stream(report.result, [report.explanations], 1))
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE bare (LIKE accruals INCLUDING ALL)")

        async def payload():  # type: ignore[no-untyped-def]
            for c in chunks:
                yield c

        t0 = time.perf_counter()
        await conn.copy_to_table("bare", source=payload(), columns=ACCRUAL_COLUMNS, format="binary")
        elapsed = time.perf_counter() - t0
        await conn.execute("DROP TABLE bare")
        return elapsed
    finally:
        await conn.close()


async def _bill(url: str, period: int) -> BillReport:
    conn = await asyncpg.connect(url)
    try:
        return await bill_period(conn, period, timezone=TZ)
    finally:
        await conn.close()


def _line(label: str, r: BillReport) -> None:
    total = r.load_s + r.compute_s + r.explain_s + r.write_s
    print(
        f"{label:24} load {r.load_s:6.2f} s | compute {r.compute_s:5.2f} s"
        f" + explanations {r.explain_s:5.2f} s | write {r.write_s:6.2f} s"
        f" | total {total:6.2f} s | {r.lines:,} lines, {r.lines / total:,.0f} lines/s,"
        f" {r.premises / total:,.0f} premises/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--premises", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=8, help="months of readings up to the period")
    parser.add_argument("--sample", type=int, default=500, help="premises for the naive baseline")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    name = f"uchet_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(ADMIN_URL, name)
    try:
        await migrate_url(url)
        t0 = time.perf_counter()
        n_meters, n_readings = await _populate(url, args.premises, args.months, args.seed)
        print(
            f"data: {args.premises:,} premises, {n_meters:,} meters, {n_readings:,} readings "
            f"over {args.months} months (COPY, {time.perf_counter() - t0:.1f} s, not timed below)"
        )
        before = await _bill(url, PERIOD - 1)
        _line(f"bill {month_name(PERIOD - 1)} (first)", before)
        report = await _bill(url, PERIOD)
        _line(f"bill {month_name(PERIOD)}", report)
        again = await _bill(url, PERIOD)
        _line(f"bill {month_name(PERIOD)} again", again)
        methods: dict[int, int] = {}
        assert report.result is not None
        for m in report.result.accruals.method.tolist():
            methods[m] = methods.get(m, 0) + 1
        print(
            "lines by method: "
            + ", ".join(f"{METHODS[k]} {v:,}" for k, v in sorted(methods.items()))
        )
        bare = await _bare_copy(url, report)
        stage = report.explain_s + report.write_s
        print(
            f"write: {report.write_s:.2f} s (build the binary COPY, copy into the run's table, "
            f"primary key, house rows, estimates, partition swap; {stage:.2f} s with the "
            f"explanations written meanwhile) vs a bare binary COPY of the same "
            f"{report.lines:,} prebuilt rows {bare:.2f} s: {report.write_s / bare:.2f}× "
            f"({stage / bare:.2f}× with the explanations; target ≤ 2×)"
        )
        per = await _naive_load(url, args.sample)
        naive = per * args.premises
        print(
            f"baseline: per-premise queries load {per * 1000:.2f} ms/premise on {args.sample} "
            f"premises → {naive:.1f} s for {args.premises:,}; set-based load "
            f"{report.load_s:.2f} s: {naive / report.load_s:.1f}× faster"
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
