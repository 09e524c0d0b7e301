"""Reconciliation over HTTP (issue #22): the report (role ``viewer``: paged, filtered by kind
and house, CSV/XLSX export) and the decisions (role ``operator``: import a register upload,
confirm a match, mark a finding checked, open an account from a register row).

The report over a large register takes seconds to build: it is built off the event loop and
kept while nothing it depends on changed (``report_state``) for at most ``CACHE_S``."""

from __future__ import annotations

import asyncio
import io
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path as FsPath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, Field

from adapters.property import find_property_mapping
from adapters.property.export import write_csv, xlsx_bytes
from adapters.registers.errors import RegisterFileError
from adapters.store.property import (
    PremiseTaken,
    premise_exists,
    record_decision,
    report_state,
)
from api.deps import Operator, OperatorDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from api.routes.operator_ingest import disk_name, upload_name
from api.routes.operator_readings import actor_of
from api.runtime import settings as core_settings
from core.errors import ConfigError
from core.reconcile import Finding
from core.reconcile.report import KINDS, ReconcileOptions, ranked_houses
from ingest.property_import import (
    BuiltReport,
    NotUnbilled,
    build_report,
    import_property_register,
    open_from_register,
)

router = APIRouter(tags=["reconcile"])

CACHE_S = 120.0
MAPPING_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
Kind = Annotated[str | None, Query(pattern=f"^({'|'.join(KINDS)})$", description="a kind")]
House = Annotated[str | None, Query(max_length=200, description="house id")]
Key = Field(min_length=1, max_length=500, description="the finding's key (report, column key)")
Note = Field(default="", max_length=2000)


@dataclass(slots=True)
class _Cached:
    owner: object  # the app's services: one process may serve several stores (tests)
    state: tuple[object, ...]
    day: date
    at: float
    built: BuiltReport


_cache: dict[int, _Cached] = {}
_locks: dict[int, tuple[object, asyncio.Lock]] = {}  # one per app (its event loop)


def _today(services: Any) -> date:
    return datetime.now(ZoneInfo(services.settings.timezone)).date()


def _lock_of(services: Any) -> asyncio.Lock:
    owner, lock = _locks.get(id(services), (None, None))
    if owner is not services or lock is None:
        lock = asyncio.Lock()
        _locks[id(services)] = (services, lock)
    return lock


async def current_report(services: Any) -> BuiltReport:
    """The report over the latest register (422 when none is imported), from the cache when
    nothing changed since it was built; one build at a time."""
    day = _today(services)
    async with _lock_of(services):
        async with connection(services, "reconcile report") as conn:
            state = await report_state(conn)
            hit = _cache.get(id(services))
            if (
                hit is not None
                and hit.owner is services
                and (hit.state, hit.day) == (state, day)
                and time.monotonic() - hit.at < CACHE_S
            ):
                return hit.built
            try:
                built = await build_report(conn, options=ReconcileOptions(), on=day)
            except ConfigError as exc:
                raise ProblemError(422, "validation-error", str(exc)) from None
        _cache[id(services)] = _Cached(services, state, day, time.monotonic(), built)
        return built


def select(built: BuiltReport, kind: str | None, house: str | None) -> list[tuple[int, Finding]]:
    """(rank, finding) of the findings of ``kind`` in ``house`` (either None: all)."""
    return [
        (n, f)
        for n, f in enumerate(built.report.findings, start=1)
        if (kind is None or f.kind == kind) and (house is None or f.house_id == house)
    ]


class FindingOut(BaseModel):
    rank: int
    kind: str
    money: str = Field(description="₽ per month at stake, exact to kopecks")
    house: str | None
    premise: str | None
    account: str | None
    register_row: str
    address: str
    score: float
    detail: str
    key: str
    priority: bool = Field(description="a house with unmetered consumption and unbilled rows")


class HouseOut(BaseModel):
    house: str
    unbilled: int
    unbilled_area: str
    unregistered: int
    area_delta: str
    heating_delta: str
    soi_moved: str
    money: str
    unmetered_consumption: bool


class ReportOut(BaseModel):
    file: str
    rows: int
    premises: int
    matched: int
    counts: dict[str, int]
    money: str = Field(description="₽ per month over every finding")
    bad_rows: list[str] = Field(description="the register's bad rows (first 100)")
    total: int = Field(description="findings that pass the filters")
    offset: int
    findings: list[FindingOut]
    houses: list[HouseOut] = Field(description="the first 20 houses, ranked")


def finding_out(rank: int, f: Finding) -> FindingOut:
    return FindingOut(
        rank=rank, kind=f.kind, money=str(f.money), house=f.house_id, premise=f.premise_id,
        account=f.account, register_row=f.where, address=f.address, score=round(f.score, 1),
        detail=f.detail, key=f.key, priority=f.priority,
    )  # fmt: skip


@router.get("/v1/operator/reconcile/report", responses=responses(401, 403, 422))
async def report(
    _: ViewerDep,
    services: ServicesDep,
    kind: Kind = None,
    house: House = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> ReportOut:
    """The findings, ranked (houses with unmetered consumption and unbilled rows first, then
    by money at stake), a page of them after the filters, and the houses."""
    built = await current_report(services)
    r = built.report
    chosen = select(built, kind, house)
    return ReportOut(
        file=built.file, rows=r.rows, premises=r.premises, matched=r.matched, counts=r.counts,
        money=str(sum((f.money for f in r.findings), start=0)), bad_rows=built.problems[:100],
        total=len(chosen), offset=offset,
        findings=[finding_out(n, f) for n, f in chosen[offset : offset + limit]],
        houses=[
            HouseOut(
                house=h.house_id, unbilled=h.unbilled, unbilled_area=str(h.unbilled_area),
                unregistered=h.unregistered, area_delta=str(h.area_delta),
                heating_delta=str(h.heating_delta), soi_moved=str(h.soi_moved),
                money=str(h.money), unmetered_consumption=h.unmetered_consumption,
            )
            for h in ranked_houses(r)[:20]
        ],
    )  # fmt: skip


def export(built: BuiltReport, kind: str | None, house: str | None, fmt: str) -> Response:
    """The selected findings as a CSV or XLSX download."""
    findings = [f for _, f in select(built, kind, house)]
    stem = f"reconcile-{date.today():%Y%m%d}"
    if fmt == "xlsx":
        return Response(
            xlsx_bytes(findings),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    out = io.StringIO()
    write_csv(findings, out)
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
    )


@router.get(
    "/v1/operator/reconcile/report.{fmt}",
    response_class=Response,
    responses={
        **responses(401, 403, 404, 422),
        200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument"
                          ".spreadsheetml.sheet": {}}},
    },
)  # fmt: skip
async def report_file(
    fmt: str, _: ViewerDep, services: ServicesDep, kind: Kind = None, house: House = None
) -> Response:
    """Every finding that passes the filters, ranked: ``report.csv`` or ``report.xlsx``."""
    if fmt not in ("csv", "xlsx"):
        raise ProblemError(404, "not-found", f"no export format {fmt!r}: csv or xlsx")
    return export(await current_report(services), kind, house, fmt)


class ImportOut(BaseModel):
    import_id: int
    file: str
    rows: int
    problems: list[str]
    skipped: int


@router.post(
    "/v1/operator/reconcile/register",
    response_model=ImportOut,
    status_code=201,
    responses=responses(401, 403, 413, 422),
)
async def upload_register(
    file: Annotated[UploadFile, File(description="a property register, CSV or XLSX")],
    _: OperatorDep,
    services: ServicesDep,
    mapping: Annotated[str, Query(description="a mapping name")] = "municipal_premises",
) -> ImportOut:
    """Imports an uploaded property register: it becomes the latest the report uses; bad
    rows are listed with file and row."""
    return await import_upload(services, upload_name(file.filename, 0), await file.read(), mapping)


async def import_upload(services: Any, name: str, data: bytes, mapping: str) -> ImportOut:
    """Imports an uploaded register file through a mapping (422 for a bad mapping or file)."""
    if not MAPPING_NAME.match(mapping):
        raise ProblemError(422, "validation-error", f"mapping {mapping!r} is not a mapping name")
    try:
        chosen = find_property_mapping(mapping, core_settings().home)
        with tempfile.TemporaryDirectory(prefix="uchet-property-") as tmp:
            path = FsPath(tmp) / disk_name(name)
            path.write_bytes(data)
            async with connection(services, "import property register") as conn:
                r = await import_property_register(conn, path, chosen)
    except (ConfigError, RegisterFileError) as exc:
        raise ProblemError(422, "validation-error", str(exc)) from None
    return ImportOut(
        import_id=r.import_id, file=r.file, rows=r.rows, problems=r.problems, skipped=r.skipped
    )


class ConfirmIn(BaseModel):
    key: str = Key
    premise: str = Field(min_length=1, max_length=200, description="premise id")
    note: str = Note


class CheckIn(BaseModel):
    kind: str = Field(pattern=f"^({'|'.join(KINDS)})$")
    key: str = Key
    note: str = Note


class OpenIn(BaseModel):
    key: str = Key
    account: str | None = Field(default=None, max_length=200, description="default: premise id")
    note: str = Note


class DecisionOut(BaseModel):
    decision: int = Field(description="the decision's id")
    key: str
    premise: str | None = None
    account: str | None = None
    created: bool = True


async def confirm_match(body: ConfirmIn, services: Any, actor: str) -> DecisionOut:
    async with connection(services, "reconcile confirm") as conn:
        if not await premise_exists(conn, body.premise):
            raise ProblemError(422, "validation-error", f"no premise {body.premise!r}")
        n = await record_decision(
            conn, key=body.key, decision="confirm", premise_id=body.premise, note=body.note,
            decided_by=actor,
        )  # fmt: skip
    return DecisionOut(decision=n, key=body.key, premise=body.premise)


async def mark_checked(body: CheckIn, services: Any, actor: str) -> DecisionOut:
    async with connection(services, "reconcile check") as conn:
        n = await record_decision(
            conn, key=body.key, decision="checked", kind=body.kind, note=body.note,
            decided_by=actor,
        )  # fmt: skip
    return DecisionOut(decision=n, key=body.key)


async def open_account(body: OpenIn, services: Any, actor: str) -> DecisionOut:
    built = await current_report(services)
    try:
        async with connection(services, "reconcile open") as conn:
            done = await open_from_register(
                conn, built, body.key, decided_by=actor, account=body.account, note=body.note
            )
    except NotUnbilled as exc:
        raise ProblemError(404, "not-found", str(exc)) from None
    except PremiseTaken as exc:
        raise ProblemError(409, "conflict", str(exc)) from None
    except ConfigError as exc:
        raise ProblemError(422, "validation-error", str(exc)) from None
    return DecisionOut(
        decision=done.decision_id, key=body.key, premise=done.premise_id, account=done.account,
        created=done.created,
    )  # fmt: skip


@router.post("/v1/operator/reconcile/confirm", status_code=201, responses=responses(401, 403, 422))
async def confirm(body: ConfirmIn, operator: OperatorDep, services: ServicesDep) -> DecisionOut:
    """Records that the register row ``key`` is ``premise``: the next report matches it so."""
    return await confirm_match(body, services, actor_of(operator))


@router.post("/v1/operator/reconcile/check", status_code=201, responses=responses(401, 403, 422))
async def check(body: CheckIn, operator: OperatorDep, services: ServicesDep) -> DecisionOut:
    """Marks a finding as checked: it leaves the report."""
    return await mark_checked(body, services, actor_of(operator))


@router.post(
    "/v1/operator/reconcile/open", responses=responses(401, 403, 404, 409, 422)
)  # fmt: skip
async def open_from_row(
    body: OpenIn, operator: OperatorDep, services: ServicesDep, response: Response
) -> DecisionOut:
    """Opens an account (contract by public offer) from an unbilled register row: the premise
    with the register's area, purpose and people in the house the row's address fits.
    Idempotent per row: again, 200 with the premise opened before (``created`` false)."""
    out = await open_account(body, services, actor_of(operator))
    response.status_code = 201 if out.created else 200
    return out


__all__ = ["Operator", "current_report", "router"]
