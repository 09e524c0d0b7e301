"""Drain rate of a gateway restarted after a crash, against its steady-state rate (issue #23).

    python bench/bench_mqtt_drain.py [--messages 100000] [--receive-maximum 5000]
                                     [--protocol 5] [--kill-at 0.3] [--pause 7]

One run, one private Mosquitto (persistence on), one fresh database, the gateway as a real
`uchet gateway` process (so it can be killed with SIGKILL):
  1. steady state: the first half of the messages published at full speed (encoded before
     the clock starts, in a process of its own) to a running gateway; rate = readings stored
     from the first publish to the last commit;
  2. crash: the second half published the same way; the gateway is killed with SIGKILL once
     ``--kill-at`` of that half is stored (Receive Maximum messages in flight), the publisher
     finishes (the rest waits in the broker's queue for the session), and after ``--pause`` s
     the gateway is started again with the same client id;
  3. drain: the backlog divided by the time from the restart to the last commit (the
     process's start-up included), and from its first commit.
Exactly once is checked at the end: every reading stored once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from api.runtime import migrate_url
from bench.bench_mqtt_ingest import start_encoded_publisher
from simulators.fastpub import publish_fast
from tests.services import Mosquitto, create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent


class Gateway:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "gateway"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(60)


async def count(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM readings")


async def wait_count(
    conn: asyncpg.Connection, target: int, *, within: float, step: float = 0.1
) -> float:
    """Waits until ``target`` rows are stored; returns when that was first seen."""
    deadline = time.monotonic() + within
    while (n := await count(conn)) < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {n} of {target} readings stored after {within:.0f} s")
        await asyncio.sleep(step)
    return time.monotonic()


async def run(args: argparse.Namespace) -> None:
    half = args.messages // 2
    work = Path(tempfile.mkdtemp(prefix="uchet-drain-"))
    broker = Mosquitto(work / "mosquitto")
    broker.start()
    url = await create_database()
    gw: Gateway | None = None
    try:
        await migrate_url(url)
        env = {
            **os.environ,
            "UCHET_DATABASE_URL": url,
            "UCHET_MQTT_URL": broker.url,
            "UCHET_MQTT_CLIENT_ID": "bench-drain",
            "UCHET_MQTT_PROTOCOL": args.protocol,
            "UCHET_MQTT_RECEIVE_MAXIMUM": str(args.receive_maximum),
            "UCHET_HOME": str(work / "home"),
        }
        gw = Gateway(env, work / "gateway.log")
        gw.start()
        conn = await asyncpg.connect(url)
        sentinel = (
            b'{"meter":"sentinel","channel":"cold_water","ts":"2026-01-01T00:00:00Z","value":1}'
        )
        deadline = time.monotonic() + 30
        while not await count(conn):  # the gateway's session exists and it consumes
            if time.monotonic() > deadline:
                raise SystemExit(f"the gateway never stored the sentinel: see {gw.log}")
            await publish_fast("127.0.0.1", broker.port, [("meters/sentinel/readings", sentinel)])
            await asyncio.sleep(0.3)

        # 1. steady state
        pub = await start_encoded_publisher(broker.port, half, 1, args.meters, None, None, 0)
        started = time.monotonic()
        done = await wait_count(conn, 1 + half, within=600)
        pub.join()
        steady = half / (done - started)

        # 2. crash mid-stream
        pub = await start_encoded_publisher(broker.port, half, 1, args.meters, None, None, half)
        await wait_count(conn, 1 + half + int(args.kill_at * half), within=600, step=0.02)
        gw.kill9()
        stored_at_kill = await count(conn)
        await asyncio.get_running_loop().run_in_executor(None, pub.join)
        backlog = 1 + 2 * half - stored_at_kill
        await asyncio.sleep(args.pause)

        # 3. restart and drain
        restarted = time.monotonic()
        gw.start()
        first = await wait_count(conn, stored_at_kill + 1, within=120, step=0.02)
        drained = await wait_count(conn, 1 + 2 * half, within=600)
        assert gw.terminate() == 0
        total = await count(conn)
        distinct = await conn.fetchval(
            "SELECT count(*) FROM (SELECT DISTINCT meter_id, ts FROM readings) k"
        )
        await conn.close()
        log = gw.log.read_text()
    finally:
        if gw is not None and gw.proc is not None and gw.proc.poll() is None:
            gw.kill9()
        await drop_database(url)
        broker.stop()
    print(
        f"protocol {args.protocol}, Receive Maximum {args.receive_maximum},"
        f" {2 * half:,} single-reading messages, {args.meters:,} meters"
    )
    print(f"1. steady state: {steady:,.0f} readings/s")
    print(
        f"2. SIGKILL at {stored_at_kill:,} stored; backlog {backlog:,}"
        f" ({backlog / args.receive_maximum:.1f} x Receive Maximum); restart after {args.pause} s"
    )
    print(
        f"3. drain: {backlog / (drained - restarted):,.0f} readings/s from the restart"
        f" ({drained - restarted:.1f} s, first commit after {first - restarted:.1f} s),"
        f" {backlog / (drained - first):,.0f} readings/s from the first commit"
        f" = {backlog / (drained - first) / steady:.0%} of steady state"
    )
    print(
        f"exactly once: {total:,} rows, {distinct:,} distinct, expected {1 + 2 * half:,};"
        f" reconnects logged: {log.count('reconnecting')}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--meters", type=int, default=1_000)
    ap.add_argument("--receive-maximum", type=int, default=5_000)
    ap.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    ap.add_argument("--kill-at", type=float, default=0.3)
    ap.add_argument("--pause", type=float, default=7.0)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
