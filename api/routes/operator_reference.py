"""Operators load reference data (houses, premises, accounts, meters, tariffs, normatives: the
file of ``uchet load``, docs/billing-data.md) and set residents' passwords."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field

from adapters.billing import parse_reference
from adapters.store.billing_load import load_reference
from api.auth_db import set_password
from api.deps import OperatorDep, ServicesDep, connection
from api.problems import ProblemError, responses
from api.security import MIN_PASSWORD, hash_password, new_password

router = APIRouter(prefix="/v1/operator", tags=["operators"])


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int


class LoadResult(BaseModel):
    counts: dict[str, Counts] = Field(description="per table")
    overrides: int = Field(description="premise normative overrides set")


@router.post("/reference", response_model=LoadResult, responses=responses(401, 403, 413, 422))
async def load(
    doc: Annotated[dict[str, Any], Body(description="the reference file (docs/billing-data.md)")],
    _: OperatorDep,
    services: ServicesDep,
) -> LoadResult:
    """Upserts the reference data in one transaction; a file with any problem loads nothing
    (422 ``billing-data-invalid`` lists the problems with their places)."""
    data = parse_reference(doc, name="request")
    async with connection(services, "load reference") as conn:
        report = await load_reference(conn, data)
    services.store.registry.forget()  # bindings may have moved
    # Accounts may have moved between premises. Emptied, not replaced: the listener task
    # keeps this cache true (a new one would never hear a change and live on short TTLs).
    services.tokens.clear()
    return LoadResult(
        counts={
            k: Counts(created=c.created, updated=c.updated, unchanged=c.unchanged)
            for k, c in report.counts.items()
        },
        overrides=report.overrides,
    )


class PasswordRequest(BaseModel):
    password: str | None = Field(
        default=None,
        min_length=MIN_PASSWORD,
        max_length=256,
        description="the new password; omitted: a random one is generated and returned",
    )


class PasswordResult(BaseModel):
    account: str
    password: str | None = Field(description="only when generated; shown once")


@router.put(
    "/accounts/{account}/password",
    response_model=PasswordResult,
    responses=responses(401, 403, 404, 422),
)
async def put_password(
    account: Annotated[str, Path(min_length=1, max_length=64, description="лицевой счёт")],
    body: PasswordRequest,
    _: OperatorDep,
    services: ServicesDep,
) -> PasswordResult:
    """Sets or resets a resident's password; the resident's old tokens stop working."""
    generated = new_password() if body.password is None else None
    hashed = await asyncio.to_thread(hash_password, body.password or generated or "")
    async with connection(services, "set password") as conn:
        if not await set_password(conn, account, hashed):
            raise ProblemError(404, "not-found", f"no premise has account {account!r}")
    services.tokens.drop(account)
    return PasswordResult(account=account, password=generated)
