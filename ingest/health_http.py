"""The gateway's own HTTP port: ``/health`` for orchestrators, ``/metrics`` for Prometheus.

Served by uvicorn inside the gateway's task group (``UCHET_HEALTH_PORT``; off by default). The
gateway keeps its own SIGINT/SIGTERM handling: this server never installs signal handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator, Iterator
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Health = Callable[[], dict[str, dict[str, Any]]]
"""The gateway's health: per supervised source, its state, restarts, last error, detail."""


def healthy(sources: dict[str, dict[str, Any]]) -> bool:
    """Every source running, and a broker connection where there is one."""
    for name, h in sources.items():
        if h.get("state") != "running":
            return False
        if name == "mqtt" and not h.get("detail", {}).get("connected", False):
            return False
    return True


class _GatewayCollector:
    """Reads the gateway's counters at scrape time (nothing is kept twice)."""

    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterator[Metric]:
        sources = self.health()
        up = GaugeMetricFamily("uchet_gateway_source_up", "1: the source runs", labels=["source"])
        restarts = CounterMetricFamily(
            "uchet_gateway_source_restarts", "restarts after failures", labels=["source"]
        )
        for name, h in sorted(sources.items()):
            up.add_metric([name], 1.0 if h.get("state") == "running" else 0.0)
            restarts.add_metric([name], float(h.get("restarts", 0)))
        yield up
        yield restarts
        totals = sources.get("pipeline", {}).get("detail", {})
        for key in ("received", "stored", "duplicates", "conflicts", "refused_rows"):
            if key in totals:
                c = CounterMetricFamily(f"uchet_gateway_{key}", f"readings {key} by this gateway")
                c.add_metric([], float(totals[key]))
                yield c
        q = CounterMetricFamily(
            "uchet_gateway_quarantined", "readings quarantined by this gateway", labels=["reason"]
        )
        for reason, n in sorted(totals.get("quarantined", {}).items()):
            q.add_metric([reason], float(n))
        yield q
        if "buffered" in totals:
            yield GaugeMetricFamily(
                "uchet_gateway_buffered", "readings waiting to be written", value=totals["buffered"]
            )


def health_app(health: Health) -> Starlette:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_GatewayCollector(health))  # type: ignore[arg-type]

    async def get_health(_: Request) -> Response:
        sources = health()
        ok = healthy(sources)
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "sources": sources},
            status_code=200 if ok else 503,
        )

    async def get_metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    return Starlette(routes=[Route("/health", get_health), Route("/metrics", get_metrics)])


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the gateway handles SIGINT/SIGTERM itself


async def serve_health(health: Health, *, host: str, port: int, stop: asyncio.Event) -> None:
    """Serves ``/health`` and ``/metrics`` until ``stop``."""
    config = uvicorn.Config(
        health_app(health), host=host, port=port, log_level="warning", lifespan="off",
        access_log=False,
    )  # fmt: skip
    server = _Server(config)

    async def exit_on_stop() -> None:
        await stop.wait()
        server.should_exit = True

    try:  # bound here, so a busy port is this source's failure (uvicorn would exit)
        sock = socket.create_server((host, port))
    except OSError as exc:
        raise OSError(f"cannot serve /health on {host}:{port}: {exc.strerror or exc}") from None
    watcher = asyncio.create_task(exit_on_stop())
    try:
        await server.serve(sockets=[sock])
    except asyncio.CancelledError:
        for listening in getattr(server, "servers", []):
            listening.close()  # unregisters the socket before it is closed below
        raise
    finally:
        watcher.cancel()
        sock.close()
