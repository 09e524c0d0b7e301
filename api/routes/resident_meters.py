"""A resident's own premise and meters: the last readings, history, and submitting a reading.

Every query is bound to the premise of the token; another premise's meter is "not found".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from adapters.store import residents
from adapters.store.daily import daily
from adapters.store.queries import last_reading
from api.deps import ASCII_DIGITS, Resident, ResidentDep, ServicesDep, connection, get_services
from api.problems import ProblemError, responses
from api.ratelimit import retry_after
from api.schemas import (
    CorrectReading,
    Me,
    MeterOut,
    ReadingOut,
    SubmissionResult,
    SubmitReading,
)
from api.state import Services
from api.submissions import DUPLICATE, NOT_FOUND, REJECTED, UNCONFIRMED, Outcome, utc_now
from core.codes import Reason, flag_names

router = APIRouter(prefix="/v1/resident", tags=["residents"])

MeterId = Annotated[
    int, Path(ge=1, le=2**31 - 1, description="meter id from /meters"), ASCII_DIGITS
]
_NOT_FOUND = ProblemError(404, "not-found", "Счётчик не найден")
_CLOCK_TOLERANCE = timedelta(minutes=5)


def _reading(ts: datetime, value: float, flags: int) -> ReadingOut:
    return ReadingOut(ts=ts, value=value, flags=flag_names(flags))


@router.get("/me", response_model=Me, responses=responses(401))
async def me(resident: ResidentDep, services: ServicesDep) -> Me:
    """The resident's account and premise."""
    async with connection(services, "me") as conn:
        found = await residents.premise(conn, resident.premise_id)
    if found is None:
        raise ProblemError(404, "not-found", "Помещение не найдено")
    return Me(
        account=resident.account,
        premise=found.id,
        house=found.house_id,
        address=found.address,
        area=str(found.area),
    )


@router.get("/meters", response_model=list[MeterOut], responses=responses(401))
async def meters(resident: ResidentDep, services: ServicesDep) -> list[MeterOut]:
    """The meters of the resident's premise, each with its last accepted reading."""
    async with connection(services, "list meters") as conn:
        rows = await residents.premise_meters(conn, resident.premise_id)
    return [
        MeterOut(
            id=m.id,
            serial=m.external_id,
            service=m.service,
            channel=m.channel,
            unit=m.unit,
            last_reading=_reading(m.last.ts, m.last.value, m.last.flags) if m.last else None,
        )
        for m in rows
    ]


@router.get(
    "/meters/{meter_id}/readings",
    response_model=list[ReadingOut],
    responses=responses(401, 404, 422),
)
async def history(
    meter_id: MeterId,
    resident: ResidentDep,
    services: ServicesDep,
    before: Annotated[datetime | None, Query(description="only readings before this")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReadingOut]:
    """Accepted readings of one of the resident's meters, newest first."""
    if before is not None and before.tzinfo is None:
        raise ProblemError(422, "validation-error", "Параметр before должен содержать часовой пояс")
    async with connection(services, "reading history") as conn:
        if not await residents.owns_meter(conn, resident.premise_id, meter_id):
            raise _NOT_FOUND
        rows = await residents.history(conn, meter_id, before=before, limit=limit)
    return [_reading(r.ts, r.value, r.flags) for r in rows]


class DayOut(BaseModel):
    day: date = Field(description="UTC day (the buckets of the daily aggregate)")
    readings: int
    last_value: float = Field(description="the day's last value, in the meter's unit")
    consumption: float | None = Field(description="the day's use; None for a first day")


@router.get(
    "/meters/{meter_id}/daily",
    response_model=list[DayOut],
    responses=responses(401, 404, 422),
)
async def daily_figures(
    meter_id: MeterId,
    resident: ResidentDep,
    services: ServicesDep,
    first: Annotated[date, Query(description="first day, YYYY-MM-DD")],
    last: Annotated[date, Query(description="last day, YYYY-MM-DD")],
) -> list[DayOut]:
    """Daily consumption of one of the resident's meters, from the daily aggregate
    (``readings_daily`` on TimescaleDB, computed from ``readings`` otherwise)."""
    if last < first or (last - first).days > 400:
        raise ProblemError(422, "validation-error", "Период: с first по last, не больше 400 дней")
    async with connection(services, "daily figures") as conn:
        if not await residents.owns_meter(conn, resident.premise_id, meter_id):
            raise _NOT_FOUND
        days = await daily(conn, [meter_id], first, last, timescale=not services.store.native)
    return [DayOut(day=d.day, readings=d.readings, last_value=d.last_value,
                   consumption=d.consumption) for d in days]  # fmt: skip


@router.post(
    "/meters/{meter_id}/readings",
    name="submit",  # keeps the operation id of the OpenAPI document
    response_model=SubmissionResult,
    status_code=201,
    responses={
        200: {"model": SubmissionResult, "description": "the same reading was accepted before"},
        **responses(401, 404, 413, 422, 429, 503),
    },
)
async def post_reading(
    meter_id: MeterId,
    body: SubmitReading,
    resident: ResidentDep,
    request: Request,
) -> Response:
    """Submits a reading of one of the resident's meters.

    201: accepted (``flags`` may say it was accepted with a remark); 200: the same reading was
    already accepted; 422 ``reading-rejected`` with ``reason`` (``register_rollback``,
    ``outside_window``, ``too_old``, ``future_timestamp``, ``negative_value``, ``conflict``).
    """
    outcome, ts = await _submit(meter_id, body, resident, get_services(request))
    # The body of SubmissionResult (response_model above documents it), written directly:
    # validating and serializing our own dict through pydantic cost more than the rest of
    # the handler. tests/api/test_submit_body.py checks it against the model.
    content = {
        "status": outcome.status,
        "meter_id": meter_id,
        "value": body.value,
        "taken_at": ts,
        "flags": flag_names(outcome.flags),
        "detail": outcome.detail,
    }
    return Response(
        orjson.dumps(content, option=orjson.OPT_UTC_Z),
        status_code=200 if outcome.status == DUPLICATE else 201,
        media_type="application/json",
    )


async def submit(
    meter_id: int,
    body: SubmitReading,
    resident: Resident,
    services: Services,
    response: Response,
) -> SubmissionResult:
    """The same submission as a model, for callers in this process (the web cabinet)."""
    outcome, ts = await _submit(meter_id, body, resident, services)
    if outcome.status == DUPLICATE:
        response.status_code = 200
    return SubmissionResult(
        status=outcome.status,  # type: ignore[arg-type]
        meter_id=meter_id,
        value=body.value,
        taken_at=ts,
        flags=flag_names(outcome.flags),
        detail=outcome.detail,
    )


async def _submit(
    meter_id: int, body: SubmitReading, resident: Resident, services: Services
) -> tuple[Outcome, datetime]:
    """Rate limit, window and date checks, then the group commit; raises the problems."""
    wait = services.submit_limiter.hit(resident.account)
    if wait:
        raise ProblemError(
            429, "rate-limited", "Слишком много показаний подряд, попробуйте позже",
            headers=retry_after(wait),
        )  # fmt: skip
    settings = services.settings
    now = utc_now()
    window = settings.window()
    if not settings.in_window(now.astimezone(ZoneInfo(settings.timezone)).date(), window):
        assert window is not None
        _reject(
            "outside_window",
            f"Показания принимаются с {window[0]} по {window[1]} число месяца",
        )
    ts = body.taken_at.astimezone(now.tzinfo) if body.taken_at else now
    if ts > now + _CLOCK_TOLERANCE:
        _reject(Reason.FUTURE_TIMESTAMP, "Дата показания ещё не наступила")
    if ts < now - timedelta(days=settings.api_max_reading_age_days):
        _reject(
            Reason.TOO_OLD,
            f"Показание старше {settings.api_max_reading_age_days} дней не принимается",
        )
    outcome = await services.submissions.submit(
        resident.premise_id,
        meter_id,
        body.value,
        ts,
        dated=body.taken_at is not None,
        confirmed=body.confirm,
    )
    if outcome.status == NOT_FOUND:
        raise _NOT_FOUND
    if outcome.status == UNCONFIRMED:
        raise ProblemError(
            409, "confirmation-required", outcome.detail, reason="implausible_rate",
            flags=flag_names(outcome.flags),
        )  # fmt: skip
    if outcome.status == REJECTED:
        assert outcome.reason is not None
        _reject(outcome.reason, outcome.detail or outcome.reason)
    return outcome, ts


def _reject(reason: str, detail: str) -> None:
    raise ProblemError(422, "reading-rejected", detail, reason=str(reason))


@router.put(
    "/meters/{meter_id}/readings/last",
    response_model=SubmissionResult,
    responses=responses(401, 404, 422, 429, 503),
)
async def correct_last_reading(
    meter_id: MeterId, body: CorrectReading, resident: ResidentDep, services: ServicesDep
) -> SubmissionResult:
    """Corrects the resident's own last reading of the current month (a typo): the value is
    replaced, the old one kept in the corrections log. 422 ``reading-rejected`` with
    ``not_correctable`` when the last reading is not the resident's own or is of a closed
    month, ``register_rollback`` when the new value is below the reading before it."""
    wait = services.submit_limiter.hit(resident.account)
    if wait:
        raise ProblemError(
            429, "rate-limited", "Слишком много показаний подряд, попробуйте позже",
            headers=retry_after(wait),
        )  # fmt: skip
    tz = ZoneInfo(services.settings.timezone)
    month_start = utc_now().astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    outcome = await services.submissions.correct(
        resident.premise_id, meter_id, body.value, since=month_start
    )
    if outcome.status == NOT_FOUND:
        raise _NOT_FOUND
    if outcome.status == REJECTED:
        assert outcome.reason is not None
        _reject(outcome.reason, outcome.detail or outcome.reason)
    last = await last_reading(services.store, meter_id)
    assert last is not None
    return SubmissionResult(
        status="corrected",
        meter_id=meter_id,
        value=body.value,
        taken_at=last.ts,
        flags=flag_names(outcome.flags),
        detail=outcome.detail,
    )
