"""The FastAPI application: health and readiness now; residents and operators build on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.store import ReadingStore
from core.errors import StoreError


def create_app(database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = await ReadingStore.open(database_url)
        try:
            yield
        finally:
            await app.state.store.close()

    app = FastAPI(title="uchet", version="0.1.0", lifespan=lifespan)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        """The database is reachable."""
        store: ReadingStore = request.app.state.store
        try:
            async with store.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except (StoreError, OSError) as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "readings": store.physical})

    @app.get("/stats", tags=["operators"])
    async def stats(request: Request) -> dict[str, object]:
        """Ingestion counters (the format of ``uchet stats --json``)."""
        store: ReadingStore = request.app.state.store
        return await store.stats()

    return app
