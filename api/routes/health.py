"""``/health`` (the process is up), ``/ready`` (the database answers), ``/metrics``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from adapters.store.connections import ping
from api.deps import ServicesDep
from api.problems import problem_response, responses
from api.schemas import Health, Ready
from core.errors import StoreError

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses=responses(503))
async def ready(services: ServicesDep) -> Ready | JSONResponse:
    """The database is reachable."""
    store = services.store
    try:
        await ping(store.pool, wait_s=5)
    except (StoreError, OSError, TimeoutError) as exc:
        log.warning("not ready: %s", exc)
        return problem_response(503, "not-ready", "the database is not reachable")
    return Ready(status="ready", readings=store.physical)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format: requests, submissions, queue depth, batch latency, store counters."""
    try:
        await services.metrics.refresh_store(services.store)
    except StoreError as exc:  # the process metrics are still worth serving
        log.warning("metrics: store counters unavailable: %s", exc)
    return Response(
        services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
