"""Benchmark: a city replay end to end, and where the time goes.

Target: 100 houses (≈ 10,000 premises) over 3 months in < 10 minutes on a 2-core machine.
Baseline, measured in the same run: writing the same number of readings straight into a fresh
store (validation + binary COPY, no broker, no API, no files) — the floor any replay stands on.

Needs PostgreSQL (UCHET_DATABASE_URL, or UCHET_TEST_DATABASE_URL's server: a new database is
created and dropped) and a broker (UCHET_MQTT_URL, else a private mosquitto if installed,
else the embedded amqtt).

    .venv/bin/python bench/bench_city.py [--houses 100] [--months 3] [--premises-per-house 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.embedded import embedded_broker, free_port
from adapters.store import ReadingStore
from api.city.replay import run_city
from api.city.report import write
from api.commands.city import default_start
from api.runtime import migrate_url
from core.batch import Columns, to_us
from core.validation import Limits
from ingest.intake import Intake
from simulators.city.town import CitySpec
from tests.services import Mosquitto, create_database, drop_database


@contextlib.asynccontextmanager
async def broker() -> AsyncIterator[str]:
    if os.environ.get("UCHET_MQTT_URL"):
        yield os.environ["UCHET_MQTT_URL"]
    elif shutil.which("mosquitto"):
        with tempfile.TemporaryDirectory() as tmp:
            m = Mosquitto(Path(tmp))
            m.start()
            try:
                yield m.url
            finally:
                m.stop()
    else:
        async with embedded_broker(free_port()) as url:
            yield url


async def baseline(n: int, meters: int) -> float:
    """Seconds to validate and COPY ``n`` register readings of ``meters`` meters, fresh store."""
    url = await create_database()
    try:
        await migrate_url(url)
        store = await ReadingStore.open(url)
        try:
            intake = Intake(store, limits=Limits(backfill=timedelta(days=3650)))
            per = max(1, n // meters)
            start = datetime.now(UTC) - timedelta(days=per + 1)
            t0 = time.perf_counter()
            batch = 10_000
            done = 0
            k = 0
            while done < n:
                cols = Columns()
                for _ in range(min(batch, n - done)):
                    m, d = k % meters, k // meters
                    cols.source.append("mqtt")
                    cols.meter.append(f"b-{m}")
                    cols.channel.append("cold_water")
                    cols.ts.append(to_us(start + timedelta(days=d)))
                    cols.value.append(float(d))
                    cols.kind.append(0)
                    cols.flags.append(0)
                    cols.end.append(-(2**63))
                    k += 1
                await intake.ingest(cols, source="mqtt")
                done += len(cols)
            return time.perf_counter() - t0
        finally:
            await store.close()
    finally:
        await drop_database(url)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--houses", type=int, default=100)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--premises-per-house", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    spec = CitySpec(
        houses=args.houses,
        months=args.months,
        seed=args.seed,
        premises_per_house=args.premises_per_house,
        start=default_start(args.months, datetime.now(UTC).date()),
    )
    url = os.environ.get("UCHET_DATABASE_URL") or await create_database()
    out = Path(tempfile.mkdtemp(prefix="bench_city_"))
    try:
        async with broker() as mqtt_url:
            t0 = time.perf_counter()
            rep = await run_city(spec, url, out, mqtt_url=mqtt_url, say=print)
            t1 = time.perf_counter()
            report = write(rep, out)
            t2 = time.perf_counter()
    finally:
        if not os.environ.get("UCHET_DATABASE_URL"):
            await drop_database(url)
    rep.timings["report: attribution + files"] = t2 - t1
    total = t2 - t0
    paths = report["paths"]
    delivered = sum(p["delivered"] for p in paths.values())
    per_path = ", ".join(f"{k} {v['delivered']}" for k, v in paths.items())
    print(
        f"\ncity: {report['city']['houses']} houses, {report['city']['premises']} premises,"
        f" {len(report['city']['months'])} months; {delivered} readings delivered"
        f" ({per_path})"
    )
    print(f"replay + report: {total:.1f} s (target < 600 s)")
    print("where the time goes:")
    for name, sec in sorted(rep.timings.items(), key=lambda kv: -kv[1]):
        print(f"  {sec:8.1f} s  {100 * sec / total:5.1f} %  {name}")
    base = await baseline(delivered, int(np.clip(delivered // 90, 1, 50_000)))
    print(
        f"baseline: the same {delivered} readings validated + COPY straight into a store:"
        f" {base:.1f} s; replay / baseline = {total / base:.1f}x"
    )
    print(f"reconciles: {report['reconciles']}, as ground truth: {report['matches_ground_truth']}")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
