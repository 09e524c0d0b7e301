"""``/v1/operator/readings/*``: an operator excludes a reading from billing (kept, flagged
EXCLUDED, who and why recorded in ``reading_exclusions``), includes it again, lists the record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from adapters.store.exclusions import (
    ExclusionError,
    Outcome,
    find_meter,
    list_exclusions,
    meter_by_id,
    set_excluded,
)
from api.deps import Operator, OperatorDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from core.codes import flag_names

router = APIRouter(prefix="/v1/operator/readings", tags=["operators"])


class ExcludeRequest(BaseModel):
    meter: str | None = Field(
        default=None, min_length=3, max_length=600, description="SOURCE:ID[:CHANNEL]"
    )
    meter_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="or its id")
    ts: AwareDatetime = Field(description="the reading's time, as stored")
    reason: str = Field(min_length=1, max_length=1000, description="why (recorded)")

    @model_validator(mode="after")
    def _one_meter(self) -> Self:
        if (self.meter is None) == (self.meter_id is None):
            raise ValueError("name the meter by exactly one of meter, meter_id")
        return self


class ExcludeResult(BaseModel):
    meter: str = Field(description="source:id:channel")
    meter_id: int
    ts: datetime
    value: float
    flags: list[str]
    excluded: bool
    changed: bool = Field(description="false: it already was (nothing recorded)")


class ExclusionOut(BaseModel):
    id: int
    meter: str
    ts: datetime
    value: float
    action: str = Field(description="exclude | include")
    reason: str
    by: str
    at: datetime


def actor_of(operator: Operator, via: str = "api") -> str:
    return f"{via}:api_key:{operator.key_id}"


async def set_reading(
    body: ExcludeRequest, services: ServicesDep, *, excluded: bool, actor: str
) -> ExcludeResult:
    try:
        async with connection(services, "exclude reading") as conn:
            if body.meter is not None:
                meter = await find_meter(conn, body.meter)
            else:
                meter = await meter_by_id(conn, body.meter_id or 0)
            out = await set_excluded(
                conn, meter, body.ts, excluded=excluded, reason=body.reason, actor=actor
            )
    except ExclusionError as exc:
        if exc.missing:
            raise ProblemError(404, "not-found", str(exc)) from None
        raise ProblemError(422, "validation-error", str(exc)) from None
    return _result(out)


def _result(out: Outcome) -> ExcludeResult:
    return ExcludeResult(
        meter=out.meter.name,
        meter_id=out.meter.id,
        ts=out.ts,
        value=out.value,
        flags=flag_names(out.flags),
        excluded=out.excluded,
        changed=out.changed,
    )


@router.post("/exclude", response_model=ExcludeResult, responses=responses(401, 403, 404, 422))
async def exclude(
    body: ExcludeRequest, operator: OperatorDep, services: ServicesDep
) -> ExcludeResult:
    """Excludes a reading from billing: it is kept, flagged ``excluded``; who (the API key) and
    why are recorded. Excluding an excluded reading changes nothing (``changed`` false)."""
    return await set_reading(body, services, excluded=True, actor=actor_of(operator))


@router.post("/include", response_model=ExcludeResult, responses=responses(401, 403, 404, 422))
async def include(
    body: ExcludeRequest, operator: OperatorDep, services: ServicesDep
) -> ExcludeResult:
    """Undoes an exclusion (recorded the same way)."""
    return await set_reading(body, services, excluded=False, actor=actor_of(operator))


@router.get("/exclusions", response_model=list[ExclusionOut], responses=responses(401, 403, 422))
async def exclusions(
    _: ViewerDep,
    services: ServicesDep,
    meter_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ExclusionOut]:
    """The record of exclusions and inclusions, newest first."""
    async with connection(services, "list exclusions") as conn:
        rows = await list_exclusions(conn, meter_id=meter_id, limit=limit)
    return [
        ExclusionOut(id=e.id, meter=e.meter, ts=e.ts, value=e.value, action=e.action,
                     reason=e.reason, by=e.actor, at=e.at)
        for e in rows
    ]  # fmt: skip
