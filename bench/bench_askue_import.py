"""ASKUE import speed: a day of 10,000 points x 48 half-hours (480,000 values) end to end
into the store, with the time split between parsing, validating and writing, against a bare
binary COPY of the same rows measured in the same run.

    python bench/bench_askue_import.py [--points 10000]

Target: < 10 s end to end. Uses a fresh database on UCHET_TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import numpy as np

from adapters.askue.importer import to_columns
from adapters.askue.parser import parse_file
from adapters.store import ReadingStore
from adapters.store.copy import COLUMNS, encode_rows
from api.runtime import migrate_url
from core.config import Settings
from ingest.askue_import import AskueImporter
from ingest.intake import Intake
from simulators.askue import AskueFleet, write_fleet
from tests.services import create_database, drop_database


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fleet = AskueFleet(
            seed=1,
            points=args.points,
            days=1,
            start=date(2026, 3, 10),
            minutes=30,
            channels=("01",),
        )
        write_fleet(Path(tmp), fleet, truth=False)
        path = next(Path(tmp).glob("*.xml"))
        size = path.stat().st_size
        url = await create_database()
        try:
            await migrate_url(url)
            store = await ReadingStore.open(url)
            try:
                t0 = time.perf_counter()
                intake = Intake.from_settings(store, Settings())
                report = await AskueImporter(intake).import_file(path)
                total = time.perf_counter() - t0
                # the split, measured again on the same file (now all duplicates)
                t1 = time.perf_counter()
                parsed = parse_file(path)
                t2 = time.perf_counter()
                cols = to_columns(parsed)
                t3 = time.perf_counter()
            finally:
                await store.close()
            # bare COPY of the same rows into an empty readings table (no validation)
            conn = await asyncpg.connect(url)
            try:
                await conn.execute("TRUNCATE readings")
                n = len(cols.ts)
                stream = encode_rows(
                    (np.arange(n) // 48 + 1).astype(np.int32),
                    np.array(cols.ts, dtype=np.int64), np.array(cols.value),
                    np.ones(n, dtype=np.int16), np.zeros(n, dtype=np.int32),
                    np.array(cols.end, dtype=np.int64),
                )  # fmt: skip
                import io

                t4 = time.perf_counter()
                await conn.copy_to_table(
                    "readings", source=io.BytesIO(stream), columns=COLUMNS, format="binary"
                )
                bare = time.perf_counter() - t4
            finally:
                await conn.close()
        finally:
            await drop_database(url)
    print(f"file: {args.points} points x 48, {report.values} values, {size / 1e6:.1f} MB")
    print(
        f"import end to end: {total:.2f} s = {report.values / total:,.0f} values/s"
        f" (target < 10 s); accepted {report.accepted}"
    )
    print(
        f"  of which parse {t2 - t1:.2f} s, to columns {t3 - t2:.2f} s,"
        f" validate + write + bookkeeping {total - (t3 - t1):.2f} s"
    )
    print(
        f"bare binary COPY of the same rows: {bare:.2f} s = {n / bare:,.0f} rows/s;"
        f" import / COPY = {total / bare:.1f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
