"""The FastAPI application: residents (личный кабинет), operators, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from adapters.store import ReadingStore
from api import problems, web
from api.metrics import Metrics
from api.middleware import LimitsAndMetrics
from api.operation_ids import operation_id
from api.problems import Problem
from api.ratelimit import RateLimiter
from api.routes import (
    claims,
    health,
    ledger,
    login,
    notify,
    operator_billing,
    operator_ingest,
    operator_meters,
    operator_readings,
    operator_reference,
    reconcile,
    resident_accruals,
    resident_meters,
)
from api.security import TokenSigner
from api.settings import ApiSettings
from api.state import Services
from api.submissions import SubmissionQueue
from api.web import docs
from ingest.intake import Intake

UPLOAD_PATHS = (
    "/v1/operator/reference",
    "/v1/operator/askue",
    "/v1/operator/payments/register",
    "/v1/operator/meters/bind-csv",  # CSV files of meter bindings (issue #20)
    "/operator/meters/bind-csv",
    "/v1/operator/reconcile/register",  # property registers (issue #22)
    "/operator/reconcile/register",
)

DESCRIPTION = """
Residents log in with their account (лицевой счёт) and password and see their meters,
readings and accruals; operators use API keys (`X-API-Key`, roles `viewer` and `operator`).
Errors are problem details (RFC 9457) with a stable `type` (`urn:uchet:problem:<slug>`).
"""


def create_app(
    database_url: str, *, settings: ApiSettings | None = None, store_pool_size: int = 8
) -> FastAPI:
    s = settings or ApiSettings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await ReadingStore.open(database_url, max_size=store_pool_size)
        queue = SubmissionQueue(
            store,
            metrics=metrics,
            max_batch=s.api_batch_max,
            # the same limits as every other source, from this process's one settings object
            intake=Intake.from_settings(store, s, register_unknown=False, retry=False),
            timezone=ZoneInfo(s.timezone),
        )
        app.state.services = Services(
            store=store,
            settings=s,
            signer=TokenSigner(s.signing_key(), ttl_s=s.api_token_ttl_s),
            login_limiter=RateLimiter(s.api_login_per_minute),
            submit_limiter=RateLimiter(s.api_submit_per_minute),
            metrics=metrics,
            submissions=queue,
        )
        queue.start()
        listener = asyncio.create_task(
            app.state.services.tokens.listen(database_url), name="token-cache"
        )
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await queue.stop()
            await store.close()

    app = FastAPI(
        title="uchet",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # api.web.docs serves them from the package, not a CDN
        redoc_url=None,
        responses={"default": {"model": Problem, "description": "problem details"}},
    )
    problems.install(app)
    app.add_middleware(
        LimitsAndMetrics,
        metrics=metrics,
        max_body=s.api_max_body,
        max_upload=s.api_max_upload,
        is_upload=lambda path: path in UPLOAD_PATHS,
    )

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.problem_openapi(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    for module in (
        health,
        login,
        resident_meters,
        resident_accruals,
        operator_reference,
        operator_meters,
        operator_billing,
        operator_ingest,
        operator_readings,
        ledger,
        claims,
        notify,
        reconcile,
    ):
        app.include_router(module.router)
    web.install(app, s)
    if s.api_docs:
        docs.install(app)
    return app


__all__ = ["UPLOAD_PATHS", "create_app"]
