"""``uchet api`` in a subprocess on a fresh database, for tests that need a real HTTP server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.api.conftest import ALICE, SECRET, prepare
from tests.services import create_database, drop_database, free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Server:
    base_url: str
    db_url: str
    operator_key: str
    viewer_key: str
    resident_token: str


@contextmanager
def api_server(**env: str) -> Iterator[Server]:
    db_url = asyncio.run(create_database())
    try:
        operator, viewer = asyncio.run(prepare(db_url))
        port = free_port()
        environ = {
            **os.environ,
            "UCHET_DATABASE_URL": db_url,
            "UCHET_API_SECRET": SECRET,
            "UCHET_API_LOGIN_PER_MINUTE": "100000",
            "UCHET_API_SUBMIT_PER_MINUTE": "100000",
            **env,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "api", "--port", str(port)],
            cwd=ROOT,
            env=environ,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(base + "/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uchet api did not start (exit {proc.poll()})")
                time.sleep(0.1)
            r = httpx.post(
                base + "/v1/resident/login", json={"account": ALICE[0], "password": ALICE[1]}
            )
            r.raise_for_status()
            yield Server(base, db_url, operator, viewer, r.json()["access_token"])
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        asyncio.run(drop_database(db_url))
