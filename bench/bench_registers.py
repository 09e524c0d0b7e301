"""Register export import speed: a month of a 100k-apartment operator (100,000 rows of a
Пирамида-style CSV, windows-1251, decimal commas, T1 + T2 = 200,000 readings) end to end into
the store, against a bare binary COPY of the same rows measured in the same run.

    python bench/bench_registers.py [--rows 100000] [--xlsx]

Two imports: the first month (every meter new: registered unbound) and the next month with a
fresh process (meters known, last values loaded from the store for the rollback check).
``--xlsx`` also times the contractor layout as an XLSX workbook of the same size (one value
per row). Target: < 10 s end to end. Uses a fresh database on UCHET_TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import numpy as np

from adapters.registers.importer import RegisterReport, read_table
from adapters.registers.mapping import available_mappings, mapping_dirs
from adapters.store import ReadingStore
from adapters.store.copy import COLUMNS, encode_rows
from api.runtime import migrate_url
from core.config import Settings
from ingest.intake import Intake
from ingest.register_import import RegisterImporter
from tests.registers.files import comma, contractor_xlsx, piramida_csv
from tests.services import create_database, drop_database


def month_rows(n: int, day: date, base: float) -> list[tuple[str, str, str, str, str]]:
    rng = np.random.default_rng(day.month)
    t1 = base + rng.uniform(0, 9000, n)
    text = day.strftime("%d.%m.%Y")
    return [
        (f"{10_000_000 + i:09d}", f"{500_000 + i}", text, comma(t1[i]), comma(t1[i] / 3))
        for i in range(n)
    ]


async def timed_import(url: str, path: Path, mapping_name: str) -> tuple[float, RegisterReport]:
    mapping = available_mappings(mapping_dirs(None))[mapping_name]
    store = await ReadingStore.open(url)  # a fresh process: empty registry cache
    try:
        t0 = time.perf_counter()
        intake = Intake.from_settings(store, Settings())
        report = await RegisterImporter(intake).import_file(path, mapping)
        return time.perf_counter() - t0, report
    finally:
        await store.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--xlsx", action="store_true", help="also the contractor XLSX layout")
    args = ap.parse_args()
    n = args.rows
    cpu0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        march = piramida_csv(Path(tmp) / "m03.csv", month_rows(n, date(2026, 3, 1), 0.0))
        april = piramida_csv(Path(tmp) / "m04.csv", month_rows(n, date(2026, 4, 1), 10_000.0))
        size = april.stat().st_size
        url = await create_database()
        try:
            await migrate_url(url)
            first, r1 = await timed_import(url, march, "piramida_t1t2")
            second, r2 = await timed_import(url, april, "piramida_t1t2")
            mapping = available_mappings(mapping_dirs(None))["piramida_t1t2"]
            t0 = time.perf_counter()
            table, _, _ = read_table(april, mapping, tz="Europe/Moscow", max_bytes=1 << 30)
            read_s = time.perf_counter() - t0
            xlsx = None
            if args.xlsx:
                rows = [
                    (f"{500_000 + i}", "ХВС", f"W{i:08d}", date(2026, 3, 25), float(i % 997), "м3")
                    for i in range(n)
                ]
                book = contractor_xlsx(Path(tmp) / "water.xlsx", rows)
                xlsx = (*await timed_import(url, book, "contractor_water"), book.stat().st_size)
            # bare binary COPY of the same rows into an empty readings table (no validation)
            conn = await asyncpg.connect(url)
            try:
                await conn.execute("TRUNCATE readings")
                cols = table.cols
                count = len(cols.ts)
                stream = encode_rows(
                    (np.arange(count) + 1).astype(np.int32),
                    np.array(cols.ts, dtype=np.int64),
                    np.array(cols.value),
                    np.zeros(count, dtype=np.int16),
                    np.zeros(count, dtype=np.int32),
                    np.array(cols.end, dtype=np.int64),
                )
                t0 = time.perf_counter()
                await conn.copy_to_table(
                    "readings", source=io.BytesIO(stream), columns=COLUMNS, format="binary"
                )
                bare = time.perf_counter() - t0
            finally:
                await conn.close()
        finally:
            await drop_database(url)
    print(f"file: {n:,} rows x 2 zones = {r2.values:,} readings, {size / 1e6:.1f} MB")
    for label, took, report in (
        ("first month (meters new)", first, r1),
        ("next month (meters known)", second, r2),
    ):
        print(
            f"{label}: {took:.2f} s end to end = {n / took:,.0f} rows/s (target < 10 s);"
            f" stored {report.stored:,}, quarantined {sum(report.quarantined.values())}"
        )
    print(f"  of which reading the file into columns: {read_s:.2f} s")
    print(f"(this process used {time.process_time() - cpu0:.1f} s CPU in all; the server more)")
    print(
        f"bare binary COPY of the same {count:,} readings: {bare:.2f} s;"
        f" next month / COPY = {second / bare:.1f}x, first month / COPY = {first / bare:.1f}x"
    )
    if xlsx is not None:
        took, report, xsize = xlsx
        print(
            f"contractor XLSX, {n:,} rows ({xsize / 1e6:.1f} MB): {took:.2f} s end to end,"
            f" stored {report.stored:,}"
        )


if __name__ == "__main__":
    asyncio.run(main())
