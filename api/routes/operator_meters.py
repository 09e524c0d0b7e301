"""Operators list meters, bind unbound ones to a premise or house and replay their quarantined
readings; and list or replay the quarantine directly."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from adapters.store import meters as registry
from adapters.store.meters import (
    MeterQuery,
    MeterRow,
    UnknownHouse,
    UnknownMeter,
    UnknownPremise,
)
from adapters.store.quarantine import list_quarantine as held_rows
from api import bulk_bind
from api.deps import ASCII_DIGITS, OperatorDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from ingest.replay import replay

router = APIRouter(prefix="/v1/operator", tags=["operators"])

_INT4 = 2**31 - 1


class OperatorMeter(BaseModel):
    id: int
    source: str
    serial: str
    channel: str
    service: str
    premise: str | None
    house: str | None
    quarantined: int = Field(description="readings of this meter waiting in quarantine")


def _meter(r: MeterRow) -> OperatorMeter:
    return OperatorMeter(
        id=r.id, source=r.source, serial=r.external_id, channel=r.channel, service=r.service,
        premise=r.premise_id, house=r.house_id, quarantined=r.quarantined,
    )  # fmt: skip


Services = Literal["cold_water", "hot_water", "electricity", "heating", "gas", "sewage"]


def meter_query(
    q: str | None, unbound: bool | None, premise: str | None, service: str | None,
    quarantined: bool,
) -> MeterQuery:  # fmt: skip
    return MeterQuery(
        text=(q or "").strip(), unbound=unbound, premise=premise, service=service,
        quarantined=quarantined,
    )  # fmt: skip


@router.get("/meters", response_model=list[OperatorMeter], responses=responses(401, 403, 422))
async def list_meters(
    _: ViewerDep,
    services: ServicesDep,
    response: Response,
    unbound: Annotated[bool | None, Query(description="true: only unbound meters")] = None,
    premise: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=_INT4)] = 0,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="registry id, or the start of a serial (source:serial too), of a "
            "premise or of a house; a house id also finds the meters of its premises",
        ),
    ] = None,
    service: Annotated[Services | None, Query()] = None,
    quarantined: Annotated[
        bool, Query(description="only meters with quarantined readings")
    ] = False,
) -> list[OperatorMeter]:
    """Meters of the registry by id, one page; ``unbound=true``: those bound to no premise nor
    house. The header ``X-Total-Count`` gives how many match (every page)."""
    query = meter_query(q, unbound, premise, service, quarantined)
    async with connection(services, "list meters") as conn:
        rows = await registry.search_meters(conn, query, limit=limit, offset=offset)
        total = await registry.count_meters(conn, query)
    response.headers["X-Total-Count"] = str(total)
    return [_meter(r) for r in rows]


class MeterTotals(BaseModel):
    meters: int
    bound: int
    unbound: int = Field(description="bound to neither a premise nor a house, as uchet stats")


@router.get("/meters/counts", response_model=MeterTotals, responses=responses(401, 403))
async def meter_counts(_: ViewerDep, services: ServicesDep) -> MeterTotals:
    """How many meters the registry holds, bound and unbound."""
    async with connection(services, "count meters") as conn:
        counts = await registry.meter_counts(conn)
    return MeterTotals(meters=counts.meters, bound=counts.bound, unbound=counts.unbound)


class BindRequest(BaseModel):
    premise: str | None = Field(default=None, min_length=1, max_length=200)
    house: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one(self) -> BindRequest:
        if (self.premise is None) == (self.house is None):
            raise ValueError("give exactly one of premise and house")
        return self


class ReplayResult(BaseModel):
    replayed: int
    stored: int
    duplicates: int
    conflicts: int
    still_quarantined: dict[str, int] = Field(description="by reason")


class BindResult(BaseModel):
    meter: OperatorMeter
    replay: ReplayResult


@router.post(
    "/meters/{meter_id}/bind",
    response_model=BindResult,
    responses=responses(401, 403, 404, 409, 422),
)
async def bind(
    meter_id: Annotated[int, Path(ge=1, le=_INT4), ASCII_DIGITS],
    body: BindRequest,
    _: OperatorDep,
    services: ServicesDep,
) -> BindResult:
    """Binds a meter to a premise or a house (ОДПУ) and replays its quarantined readings."""
    store = services.store
    async with connection(services, "bind meter") as conn:
        try:
            await registry.bind_meter_id(
                conn, meter_id, premise_id=body.premise, house_id=body.house
            )
        except UnknownPremise:
            raise ProblemError(404, "not-found", f"no premise {body.premise!r}") from None
        except UnknownHouse:
            raise ProblemError(404, "not-found", f"no house {body.house!r}") from None
        except UnknownMeter:
            raise ProblemError(404, "not-found", f"no meter {meter_id}") from None
    store.registry.forget()
    report = await replay(store, services.settings, meter_ids=[meter_id])
    async with connection(services, "bound meter") as conn:
        row = await registry.meter_by_id(conn, meter_id)
    if row is None:  # deleted meanwhile
        raise ProblemError(404, "not-found", f"no meter {meter_id}")
    return BindResult(meter=_meter(row), replay=ReplayResult(**report.as_dict()))  # type: ignore[arg-type]


class ReplayRequest(BaseModel):
    meter_ids: list[Annotated[int, Field(ge=1, le=_INT4)]] = Field(default=[], max_length=10_000)
    quarantine_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        default=[], max_length=100_000
    )


@router.post("/quarantine/replay", response_model=ReplayResult, responses=responses(401, 403, 422))
async def replay_quarantine(
    body: ReplayRequest, _: OperatorDep, services: ServicesDep
) -> ReplayResult:
    """Replays quarantined readings (after fixing their cause) through validation again;
    name them by meter ids and/or quarantine ids (422 when neither is given)."""
    if not body.meter_ids and not body.quarantine_ids:
        raise ProblemError(422, "validation-error", "name meter_ids or quarantine_ids to replay")
    report = await replay(
        services.store, services.settings, meter_ids=body.meter_ids,
        quarantine_ids=body.quarantine_ids,
    )  # fmt: skip
    return ReplayResult(**report.as_dict())  # type: ignore[arg-type]


class QuarantineRow(BaseModel):
    id: int
    received_at: datetime
    source: str
    reason: str
    detail: str
    meter: str | None
    channel: str | None


@router.get("/quarantine", response_model=list[QuarantineRow], responses=responses(401, 403, 422))
async def list_quarantine(
    _: ViewerDep,
    services: ServicesDep,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[QuarantineRow]:
    """Readings waiting in quarantine (not replayed), newest first."""
    async with connection(services, "list quarantine") as conn:
        rows = await held_rows(conn, reason=reason, limit=limit)
    return [QuarantineRow.model_validate(r, from_attributes=True) for r in rows]


class LineErrorOut(BaseModel):
    line: int = Field(description="line of the file, 1 = the header")
    field: str
    message: str


class BulkBindResult(BaseModel):
    dry_run: bool
    lines: int = Field(description="data lines read")
    bound_lines: int = Field(description="lines bound (on a dry run: that would be)")
    bound_meters: int = Field(description="registry rows bound")
    errors: list[LineErrorOut]
    replay: ReplayResult | None = Field(description="quarantine of the bound meters, replayed")


async def bind_csv_file(data: bytes, dry_run: bool, services: ServicesDep) -> BulkBindResult:
    """Checks and binds the file's lines (see ``api/bulk_bind.py``), then replays the
    quarantined readings of the meters bound."""
    async with connection(services, "bind meters") as conn:
        report = await bulk_bind.check_and_bind(conn, data, dry_run=dry_run)
    replayed = None
    if not dry_run:
        services.store.registry.forget()
        done = await replay(services.store, services.settings, meter_ids=report.bound_meters)
        replayed = ReplayResult(**done.as_dict())  # type: ignore[arg-type]
    return BulkBindResult(
        dry_run=dry_run, lines=report.lines, bound_lines=report.bound_lines,
        bound_meters=len(report.bound_meters), replay=replayed,
        errors=[LineErrorOut(line=e.line, field=e.field, message=e.message) for e in report.errors],
    )  # fmt: skip


@router.post(
    "/meters/bind-csv",
    response_model=BulkBindResult,
    responses=responses(401, 403, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "a header line (meter;premise;house;service), then one line a meter",
        }
    },
)
async def bind_csv(
    request: Request,
    _: OperatorDep,
    services: ServicesDep,
    dry_run: Annotated[bool, Query(description="check every line, bind nothing")] = False,
) -> BulkBindResult:
    """Binds many meters from a CSV file: every line is checked, the good ones are bound in
    one transaction and the errors come back by line and field."""
    data = await request.body()
    if not data.strip():
        raise ProblemError(422, "validation-error", "empty file: a header line and data lines")
    return await bind_csv_file(data, dry_run, services)
