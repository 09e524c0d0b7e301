"""Resident reading submissions through the HTTP API into the store, against a bare endpoint.

    python bench/bench_api.py [--requests 20000] [--residents 2000] [--concurrency 64]

Needs the PostgreSQL at UCHET_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test);
creates and drops a database. Starts two uvicorn processes: ``uchet api`` (the real app, default
rate limits) and a bare FastAPI app whose POST does nothing. The same client — ``--clients``
processes of httpx with keep-alive connections, ``--concurrency`` requests in flight in all —
sends the same number of requests to each. Each request is a resident's POST of a cold-water
reading (own meter, own signed token); the figure is requests answered per second and the
client-side latency p50/p99. Target: >= 1,000 submissions/s with p99 < 100 ms. At the end the
stored readings are counted: every accepted submission must be in the store.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg
import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from api.runtime import migrate_url
from api.security import TokenSigner, hash_password
from tests.services import create_database, drop_database, free_port

SECRET = "bench-secret-" + "y" * 40


class BareBody(BaseModel):
    value: float


def serve_bare(port: int) -> None:
    """The baseline: the same route shape, a body parsed, nothing done."""
    import uvicorn

    app = FastAPI()

    @app.post("/v1/resident/meters/{meter_id}/readings", status_code=201)
    async def noop(meter_id: int, body: BareBody) -> dict[str, str]:
        return {"status": "accepted"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def seed(url: str, residents: int) -> list[tuple[str, int]]:
    """Houses, premises with accounts, one cold-water meter each; (token, meter id) per resident."""
    await migrate_url(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO houses (id) VALUES ('hb')")
        ids = [f"p{i}" for i in range(residents)]
        accounts = [f"77{i:08d}" for i in range(residents)]
        await conn.execute(
            "INSERT INTO premises (id, house_id, account, area)"
            " SELECT id, 'hb', account, 50 FROM unnest($1::text[], $2::text[]) AS t(id, account)",
            ids,
            accounts,
        )
        # One hash for all: argon2 is slow on purpose, and logins are not what is measured.
        hashed = hash_password("bench-password")
        await conn.execute(
            "INSERT INTO resident_logins (account, password_hash)"
            " SELECT a, $2 FROM unnest($1::text[]) AS a",
            accounts,
            hashed,
        )
        rows = await conn.fetch(
            "INSERT INTO meters (source, external_id, channel, service, unit, premise_id)"
            " SELECT 'mqtt', 'b-' || id, 'cold_water', 'cold_water', 'm3', id"
            " FROM unnest($1::text[]) AS id RETURNING id, premise_id",
            ids,
        )
    finally:
        await conn.close()
    signer = TokenSigner(SECRET, ttl_s=3600)
    meter_of = {r["premise_id"]: r["id"] for r in rows}
    return [(signer.issue(a, 1), meter_of[p]) for a, p in zip(accounts, ids, strict=True)]


async def _connection(
    host: str,
    port: int,
    work: list[tuple[str, int]],
    take: list[int],
    n: int,
    latencies: list[float],
    codes: dict[int, int],
) -> None:
    """One keep-alive HTTP/1.1 connection sending requests one after another.

    A minimal client on raw asyncio streams: httpx costs more CPU per request than the
    server under test, and on a 2-core machine the client must not be the bottleneck.
    """
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while take[0] < n:
            i = take[0]
            take[0] += 1
            token, meter = work[i % len(work)]
            value = 100.0 + 0.001 * (i // len(work))  # rising: each is accepted
            body = b'{"value": %.3f}' % value
            request = (
                f"POST /v1/resident/meters/{meter}/readings HTTP/1.1\r\n"
                f"Host: {host}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            codes[status] = codes.get(status, 0) + 1
    finally:
        writer.close()


async def _client(
    base: str, work: list[tuple[str, int]], n: int, concurrency: int, start_at: float
) -> tuple[list[float], dict[int, int], float]:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    codes: dict[int, int] = {}
    take = [0]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    t0 = time.perf_counter()
    await asyncio.gather(
        *(_connection(host, int(port), work, take, n, latencies, codes) for _ in range(concurrency))
    )
    return latencies, codes, time.perf_counter() - t0


def _client_process(args: tuple[str, list[tuple[str, int]], int, int, float]) -> object:
    return asyncio.run(_client(*args))


def run_load(
    base: str, work: list[tuple[str, int]], n: int, clients: int, concurrency: int
) -> dict[str, object]:
    # Each client process gets its own residents, so no two processes write one meter.
    parts = [work[i::clients] for i in range(clients)]
    start_at = time.time() + 1.0
    with mp.get_context("spawn").Pool(clients) as pool:
        results = pool.map(
            _client_process,
            [
                (base, parts[i], n // clients, concurrency // clients, start_at)
                for i in range(clients)
            ],
        )
    latencies = sorted(x for r in results for x in r[0])  # type: ignore[index]
    codes: dict[int, int] = {}
    for r in results:
        for code, k in r[1].items():  # type: ignore[index]
            codes[code] = codes.get(code, 0) + k
    wall = max(r[2] for r in results)  # type: ignore[index]
    return {
        "rate": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        "codes": codes,
        "n": len(latencies),
    }


def wait_ready(base: str, proc: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + path, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--residents", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return

    url = asyncio.run(create_database())
    procs: list[subprocess.Popen[bytes]] = []
    try:
        work = asyncio.run(seed(url, args.residents))
        bare_port, api_port = free_port(), free_port()
        procs.append(
            subprocess.Popen([sys.executable, __file__, "--serve-bare", str(bare_port)], cwd=ROOT)
        )
        env = {**os.environ, "UCHET_DATABASE_URL": url, "UCHET_API_SECRET": SECRET}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "api.cli", "api", "--port", str(api_port)],
                cwd=ROOT,
                env=env,
                stderr=subprocess.DEVNULL,
            )
        )
        bare, api = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{api_port}"
        wait_ready(bare, procs[0], "/docs")
        wait_ready(api, procs[1], "/ready")
        # warm-up: connections, registry cache, partitions
        run_load(api, work, min(2_000, args.requests), args.clients, args.concurrency)
        run_load(bare, work, min(2_000, args.requests), args.clients, args.concurrency)

        base_fig = run_load(bare, work, args.requests, args.clients, args.concurrency)
        api_fig = run_load(api, work, args.requests, args.clients, args.concurrency)

        async def stored() -> int:
            conn = await asyncpg.connect(url)
            try:
                return int(await conn.fetchval("SELECT count(*) FROM readings"))
            finally:
                await conn.close()

        in_store = asyncio.run(stored())
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        asyncio.run(drop_database(url))

    cpu = os.cpu_count()
    print(
        f"machine: {cpu} cores; {args.requests} requests, {args.residents} residents, "
        f"{args.clients} client processes x {args.concurrency // args.clients} in flight"
    )
    for name, fig in (
        ("bare FastAPI endpoint (baseline)", base_fig),
        ("uchet submission", api_fig),
    ):
        print(
            f"  {name:34} {fig['rate']:8,.0f} req/s   p50 {fig['p50_ms']:6.1f} ms"
            f"   p99 {fig['p99_ms']:6.1f} ms   status {fig['codes']}"
        )
    print(f"  ratio uchet / baseline: {api_fig['rate'] / base_fig['rate']:.2f}")  # type: ignore[operator]
    accepted = api_fig["codes"].get(201, 0)  # type: ignore[attr-defined]
    warm = min(2_000, args.requests)
    print(
        f"  readings in the store: {in_store} (accepted in the measured run: {accepted}, "
        f"warm-up: {warm})"
    )
    ok = api_fig["rate"] >= 1000 and api_fig["p99_ms"] < 100  # type: ignore[operator]
    print(f"  target >= 1,000/s with p99 < 100 ms: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
