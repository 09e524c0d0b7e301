"""``POST /v1/resident/login``: account (лицевой счёт) and password for a signed, expiring token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from adapters.store.sessions import end_sessions
from api.auth_db import find_login
from api.deps import ResidentDep, ServicesDep, connection
from api.problems import ProblemError, responses
from api.ratelimit import retry_after
from api.schemas import LoginRequest, Token
from api.security import verify_password

router = APIRouter(prefix="/v1/resident", tags=["residents"])


@router.post("/login", response_model=Token, responses=responses(401, 413, 422, 429, 503))
async def login(body: LoginRequest, request: Request, services: ServicesDep) -> Token:
    """Issues a resident token. Limited per account and per client address."""
    client = request.client.host if request.client else "-"
    wait = max(
        services.login_limiter.hit("a:" + body.account),
        services.login_limiter.hit("c:" + client),
    )
    if wait:
        raise ProblemError(
            429, "rate-limited", "Слишком много попыток входа, попробуйте позже",
            headers=retry_after(wait),
        )  # fmt: skip
    async with connection(services, "find login") as conn:
        found = await find_login(conn, body.account)
    ok = await verify_password(found.password_hash if found else None, body.password)
    if not ok or found is None:
        raise ProblemError(401, "login-failed", "Неверный лицевой счёт или пароль")
    token = services.signer.issue(body.account, found.token_version)
    return Token(access_token=token, expires_in=services.signer.ttl_s)


@router.post("/logout", status_code=204, response_class=Response, responses=responses(401, 503))
async def logout(resident: ResidentDep, services: ServicesDep) -> Response:
    """Ends the resident's sessions on the server: this token, the account's other tokens and
    its web sessions stop working (a saved copy of the token is refused too)."""
    async with connection(services, "logout") as conn:
        await end_sessions(conn, resident.account)
    services.tokens.drop(resident.account)
    return Response(status_code=204)
