"""Prometheus names per the conventions (issue #20): what only grows is a counter named
``*_total``, no ``*_created`` series, and a Starlette route (``/openapi.json``) gets its
template as the route label, not "unmatched"."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from api.metrics import Metrics, route_template


class _Store:
    """The one method Metrics reads (pure-logic unit test: the figures are given)."""

    async def stats(self) -> dict[str, object]:
        return {
            "readings": 12, "meters": 3, "unbound_meters": 1, "duplicates": 7, "conflicts": 2,
            "quarantined": {"unknown_meter": 4},
        }  # fmt: skip


async def test_cumulative_counts_are_counters_with_total_and_no_created() -> None:
    metrics = Metrics()
    metrics.observe_request("GET", "/health", 200, 0.01)
    metrics.count_submission("accepted")
    await metrics.refresh_store(_Store())  # type: ignore[arg-type]
    text = metrics.render().decode()
    assert "_created" not in text
    assert "# TYPE uchet_store_duplicates_total counter" in text
    assert "uchet_store_duplicates_total 7.0" in text
    assert "uchet_store_conflicts_total 2.0" in text
    assert not re.search(r"^uchet_store_(duplicates|conflicts) ", text, re.M)
    # sizes stay gauges under their names (dashboards and tests read them)
    assert "# TYPE uchet_store_readings gauge" in text and "uchet_store_readings 12.0" in text
    assert 'uchet_store_quarantined{reason="unknown_meter"} 4.0' in text
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        assert (kind == "counter") == name.endswith("_total"), (name, kind)
    assert 'uchet_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text


async def test_route_template_names_starlette_routes_and_keeps_unmatched() -> None:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    seen: list[str] = []

    def recording(inner: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await inner(scope, receive, send)
            finally:
                seen.append(route_template(scope))

        return middleware

    app.add_middleware(lambda inner: recording(inner))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/v1/things/42")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
    assert seen == ["/openapi.json", "/v1/things/{thing_id}", "unmatched"]


async def test_the_app_labels_openapi_by_its_path(env) -> None:  # real app, real PostgreSQL
    assert (await env.client.get("/openapi.json")).status_code == 200
    text = (await env.client.get("/metrics")).text
    assert 'route="/openapi.json"' in text
    assert 'route="unmatched",status="200"' not in text
