"""The claims workflow over HTTP (issue #19): a debtor's claim moves notice → warning → lawyers →
court → writ (or is closed), each stage with its date, the debt and penalty of that day, who
recorded it, and its letter as a PDF. Reads: role ``viewer``; changes: role ``operator``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from adapters.store.claims import ClaimRecord, count_claims, list_claims
from adapters.store.ledger import Connection
from api.deps import ASCII_DIGITS, Operator, OperatorDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from api.routes.ledger_data import load_payee
from api.routes.operator_readings import actor_of
from api.runtime import settings as core_settings
from core.ledger.claims import CLOSE_REASONS, STAGE_NAMES, STAGES, ClaimError
from core.ledger.dates import day_name, parse_day
from core.ledger.errors import LedgerError
from core.ledger.money import format_money, parse_typed_rubles
from ingest import claims as cases

router = APIRouter(tags=["claims"])

STAGE = f"^({'|'.join(STAGES)})$"
ClaimId = Annotated[int, Path(ge=1, le=2**62), ASCII_DIGITS]
_STATUS = {"invalid": 422, "conflict": 409, "not-found": 404}
_SLUG = {"invalid": "validation-error", "conflict": "conflict", "not-found": "not-found"}


def today(services: Any) -> int:
    return datetime.now(ZoneInfo(services.settings.timezone)).date().toordinal()


@asynccontextmanager
async def claims_conn(services: Any, what: str) -> AsyncIterator[Connection]:
    """A pooled connection; a claim's error becomes its problem (404, 409 or 422)."""
    try:
        async with connection(services, what) as conn:
            yield conn
    except ClaimError as exc:
        raise ProblemError(_STATUS[exc.kind], _SLUG[exc.kind], str(exc)) from None


def _day(text: str | None, services: Any) -> int:
    if text is None:
        return today(services)
    try:
        return parse_day(text, "date")
    except LedgerError as exc:
        raise ProblemError(422, "validation-error", str(exc)) from None


def claim_json(c: ClaimRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "account": c.account,
        "house": c.house,
        "address": c.address,
        "stage": c.stage,
        "stage_name": STAGE_NAMES[c.stage],
        "stage_on": c.stage_on.isoformat(),
        "opened_on": c.opened_on.isoformat(),
        "debt": format_money(c.debt),
        "penalty": format_money(c.penalty),
        "close_reason": c.close_reason,
    }
    if c.events:
        out["events"] = [
            {
                "id": e.id,
                "stage": e.event.stage,
                "stage_name": STAGE_NAMES[e.event.stage],
                "date": day_name(e.event.day),
                "debt": format_money(e.event.debt),
                "penalty": format_money(e.event.penalty),
                "note": e.event.note,
                "reason": e.event.reason,
                "document": e.document,
                "letter": e.letter,
                "actor": e.actor,
                "recorded_at": e.recorded_at.isoformat(),
            }
            for e in c.events
        ]
    return out


class OpenIn(BaseModel):
    account: str = Field(min_length=1, max_length=200, description="лицевой счёт")
    date: str | None = Field(default=None, description="YYYY-MM-DD; default today")
    note: str = Field(default="", max_length=1000)


class AdvanceIn(BaseModel):
    stage: str = Field(pattern=STAGE, description=" | ".join(STAGES))
    date: str | None = Field(default=None, description="YYYY-MM-DD; default today")
    note: str = Field(default="", max_length=1000)
    document: str | None = Field(default=None, max_length=300, description="case or writ no.")


class CloseIn(BaseModel):
    reason: str = Field(pattern=f"^({'|'.join(CLOSE_REASONS)})$")
    date: str | None = Field(default=None, description="YYYY-MM-DD; default today")
    note: str = Field(default="", max_length=1000)


@router.get("/v1/operator/claims", responses=responses(401, 403, 422))
async def claims_list(
    _: ViewerDep,
    services: ServicesDep,
    response: Response,
    stage: Annotated[str | None, Query(pattern=STAGE)] = None,
    house: Annotated[str | None, Query(max_length=200)] = None,
    closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[dict[str, Any]]:
    """Open claims (``closed=true``: the closed ones), of a stage and a house if given, the
    oldest stage first, one page; the header ``X-Total-Count`` gives how many match."""
    async with claims_conn(services, "list claims") as conn:
        found = await list_claims(
            conn, stage=stage, house=house, closed=closed, limit=limit, offset=offset
        )
        counts = await count_claims(conn, house=house, closed=closed)
    total = sum(counts.values()) if stage is None else counts.get(stage, 0)
    response.headers["X-Total-Count"] = str(total)
    return [claim_json(c) for c in found]


@router.get("/v1/operator/claims/candidates", responses=responses(401, 403, 422))
async def claim_candidates(
    _: ViewerDep,
    services: ServicesDep,
    min_debt: Annotated[
        str, Query(max_length=30, description="rubles, as typed: 1000, 1 000,50")
    ] = "1000.00",
    min_days: Annotated[int, Query(ge=0, le=100000)] = 60,
    house: Annotated[str | None, Query(max_length=200)] = None,
) -> list[dict[str, Any]]:
    """Debtors eligible for a notice today: overdue debt and days overdue at least the given,
    no open claim; the biggest debt first."""
    try:
        kopecks = parse_typed_rubles(min_debt, "min_debt")
    except LedgerError as exc:
        raise ProblemError(422, "validation-error", str(exc)) from None
    async with claims_conn(services, "claim candidates") as conn:
        found = await cases.candidates(
            conn, today(services), min_debt=kopecks, min_days=min_days, house=house
        )
    return [
        {
            "account": c.debt.account,
            "house": c.house,
            "address": c.address,
            "debt": format_money(c.debt.debt),
            "penalty_due": format_money(c.debt.penalty_due),
            "oldest_delay_days": c.debt.oldest_delay,
        }
        for c in found
    ]


@router.get("/v1/operator/claims/{claim_id}", responses=responses(401, 403, 404, 422))
async def claim_one(claim_id: ClaimId, _: ViewerDep, services: ServicesDep) -> dict[str, Any]:
    """A claim with the history of its stages."""
    async with claims_conn(services, "read claim") as conn:
        return claim_json(await cases.claim(conn, claim_id))


def _actor(operator: Operator) -> str:
    return actor_of(operator, "api")


@router.post("/v1/operator/claims", status_code=201, responses=responses(401, 403, 404, 409, 422))
async def claim_open(body: OpenIn, operator: OperatorDep, services: ServicesDep) -> dict[str, Any]:
    """Opens a claim (stage notice) for an account with an overdue debt on the date."""
    day = _day(body.date, services)
    async with claims_conn(services, "open claim") as conn:
        c = await cases.open_claim(
            conn, body.account, day, today(services), actor=_actor(operator), note=body.note
        )
    return claim_json(c)


@router.post("/v1/operator/claims/{claim_id}/advance", responses=responses(401, 403, 404, 409, 422))
async def claim_advance(
    claim_id: ClaimId, body: AdvanceIn, operator: OperatorDep, services: ServicesDep
) -> dict[str, Any]:
    """Moves a claim to a later stage (409 when not allowed from its stage)."""
    day = _day(body.date, services)
    async with claims_conn(services, "advance claim") as conn:
        c = await cases.advance_claim(
            conn, claim_id, body.stage, day, today(services),
            actor=_actor(operator), note=body.note, document=body.document,
        )  # fmt: skip
    return claim_json(c)


@router.post("/v1/operator/claims/{claim_id}/close", responses=responses(401, 403, 404, 409, 422))
async def claim_close(
    claim_id: ClaimId, body: CloseIn, operator: OperatorDep, services: ServicesDep
) -> dict[str, Any]:
    """Closes a claim: ``paid`` (no overdue debt left) or ``written_off`` (grounds in the note)."""
    day = _day(body.date, services)
    async with claims_conn(services, "close claim") as conn:
        c = await cases.close_claim(
            conn, claim_id, body.reason, day, today(services),
            actor=_actor(operator), note=body.note,
        )  # fmt: skip
    return claim_json(c)


@router.get(
    "/v1/operator/claims/{claim_id}/letter.pdf",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), 200: {"content": {"application/pdf": {}}}},
)
async def claim_letter(
    claim_id: ClaimId, viewer: ViewerDep, services: ServicesDep, fresh: bool = False
) -> Response:
    """The letter of the claim's current stage (kept once drawn; ``fresh`` draws it again:
    role ``operator`` only)."""
    if fresh and viewer.role != "operator":
        raise ProblemError(403, "forbidden", f"role {viewer.role!r} may not redraw a letter")
    payee = load_payee(core_settings().home / "payee.json")
    async with claims_conn(services, "claim letter") as conn:
        name, pdf = await cases.stage_letter(conn, claim_id, payee, fresh=fresh)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
