"""Dependencies of the routes, as ``Annotated`` aliases: services, a resident, an operator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator

from adapters.store.connections import Connection, pooled
from api.auth_db import key_role, token_premise
from api.problems import ProblemError
from api.schemas import PERIOD_PATTERN
from api.state import Services

_bearer = HTTPBearer(auto_error=False, description="resident token from /v1/resident/login")
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="operator API key (uchet apikeys create)"
)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _services(request: Request) -> Services:
    # async: FastAPI runs a plain ``def`` dependency in the thread pool, a thread hop per request.
    return get_services(request)


ServicesDep = Annotated[Services, Depends(_services)]

PERIOD = PERIOD_PATTERN.replace(r"\d", "[0-9]")
"""YYYY-MM in ASCII digits: ``\\d`` matches any Unicode digit (``２０２６-０１`` would alias
2026-01 once ``int()`` reads it)."""

INT4_MAX = 2**31 - 1


def ascii_int(text: str, *, low: int = 1, high: int = INT4_MAX) -> int | None:
    """``text`` as an integer id when it is ASCII digits only and within [low, high]; None
    otherwise. ``str.isdigit`` alone admits ``²``, ``①`` (int() then fails) and ``３``
    (which int() reads as 3)."""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def _ascii_digits(value: object) -> object:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("expected ASCII digits 0-9 only")
    return value


ASCII_DIGITS = BeforeValidator(_ascii_digits)
"""For an ``int`` path parameter: pydantic alone reads ``+3`` as 3 and ``1_0`` as 10."""

ACQUIRE_TIMEOUT_S = 10.0
"""How long a request waits for a pooled connection before it answers 503."""


@asynccontextmanager
async def connection(services: Services, what: str) -> AsyncIterator[Connection]:
    """A pooled connection. Getting it is inside the error mapping: an outage (refused,
    reset, no free connection within ``ACQUIRE_TIMEOUT_S``) is a retryable StoreError, which
    the app answers with 503 and Retry-After, not 500 and a traceback."""
    async with pooled(services.store.pool, what, wait_s=ACQUIRE_TIMEOUT_S) as conn:
        yield conn


@dataclass(frozen=True, slots=True)
class Resident:
    account: str
    premise_id: str


async def get_resident(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Resident:
    # The services straight from the app, not through ServicesDep: every nested dependency
    # costs FastAPI a level of solving on each request.
    services = get_services(request)
    if credentials is None:
        raise _unauthorized()
    claims = services.signer.check(credentials.credentials)
    if claims is None:
        raise _unauthorized()
    premise = services.tokens.get(claims.account, claims.version)
    if premise is None:
        async with connection(services, "check token") as conn:
            premise = await token_premise(conn, claims.account, claims.version)
        if premise is None:  # password reset since, or the account left its premise
            raise _unauthorized()
        services.tokens.put(claims.account, claims.version, premise)
    return Resident(claims.account, premise)


def _unauthorized() -> ProblemError:
    return ProblemError(
        401,
        "unauthorized",
        "Войдите заново: токен отсутствует, недействителен или истёк",
        headers={"WWW-Authenticate": "Bearer"},
    )


ResidentDep = Annotated[Resident, Depends(get_resident)]


@dataclass(frozen=True, slots=True)
class Operator:
    key_id: int
    role: str


def _role(required: str):  # type: ignore[no-untyped-def]
    async def check(
        services: ServicesDep, key: Annotated[str | None, Depends(_api_key)]
    ) -> Operator:
        if not key:
            raise ProblemError(401, "unauthorized", "an X-API-Key header is required")
        async with connection(services, "check api key") as conn:
            found = await key_role(conn, key)
        if found is None:
            raise ProblemError(401, "unauthorized", "unknown or revoked API key")
        if required == "operator" and found[1] != "operator":
            raise ProblemError(403, "forbidden", f"role {found[1]!r} may not do this")
        return Operator(*found)

    return check


ViewerDep = Annotated[Operator, Depends(_role("viewer"))]
OperatorDep = Annotated[Operator, Depends(_role("operator"))]
