"""Errors as problem details (RFC 9457): one JSON shape, a stable ``type`` per kind of error.

Every ``type`` is ``urn:uchet:problem:<slug>``; the slugs are listed in docs/api.md and never
renamed. ``detail`` is Russian where a resident reads it.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.store.connections import DRIVER_ERRORS
from adapters.store.db import RETRYABLE
from api.metrics import route_template
from core.errors import BillingError, ConfigError, PayloadError, StoreError, UchetError

log = logging.getLogger(__name__)

PREFIX = "urn:uchet:problem:"
MEDIA_TYPE = "application/problem+json"

# Default slug and Russian detail per status, for errors raised without their own.
_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Некорректный запрос"),
    401: ("unauthorized", "Нужна авторизация"),
    403: ("forbidden", "Недостаточно прав"),
    404: ("not-found", "Не найдено"),
    405: ("method-not-allowed", "Метод не поддерживается"),
    406: ("not-acceptable", "Формат ответа не поддерживается"),
    409: ("conflict", "Конфликт"),
    413: ("payload-too-large", "Слишком большой запрос"),
    415: ("unsupported-media-type", "Неподдерживаемый тип содержимого"),
    422: ("validation-error", "Запрос не прошёл проверку"),
    429: ("rate-limited", "Слишком много запросов, попробуйте позже"),
    503: ("unavailable", "Сервис временно недоступен"),
}


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: body/query/path and the field names")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details; extension members depend on ``type``."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="urn:uchet:problem:<slug>, stable")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    reason: str | None = Field(default=None, description="reading rejections: the reason code")
    errors: list[FieldError] | None = Field(default=None, description="validation errors")


class ProblemError(Exception):
    """Raised by handlers: becomes a problem response."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or slug)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers
        self.extra = extra


def problem_response(
    status: int,
    slug: str | None = None,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    default_slug, default_detail = _BY_STATUS.get(status, ("error", HTTPStatus(status).phrase))
    body: dict[str, Any] = {
        "type": PREFIX + (slug or default_slug),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or default_detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem statuses a route may answer."""
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase} for s in statuses}


def problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Documents every error response as ``application/problem+json`` with the Problem schema
    (FastAPI would say ``application/json`` and, for 422, its own validation error body)."""
    content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if status == "default" or status[0] in "45":
                    response["content"] = content
                    response.setdefault("description", "problem details")
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the input back: it may hold a password (ФЗ-152, logs and proxies).
    return [
        {"loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
         "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]  # fmt: skip


RETRY_AFTER_S = 5
"""What a 503 on a store outage tells the client to wait (seconds)."""


def where(request: Request) -> str:
    """Method and route template for logs: ``/v1/operator/accounts/{account}/password``, never
    the path itself (it may hold an account number, ФЗ-152)."""
    return f"{request.method} {route_template(request.scope)}"


def store_problem(request: Request, exc: BaseException, *, retryable: bool) -> JSONResponse:
    """503 + Retry-After for an outage, 409 for a refusal; one log line, no traceback."""
    log.error("store error on %s: %s: %s", where(request), type(exc).__name__, exc)
    if retryable:
        return problem_response(
            503,
            "store-unavailable",
            instance=request.url.path,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return problem_response(
        409, "store-refused", "the database refused the request", instance=request.url.path
    )


def install(app: FastAPI) -> None:
    """Maps every error the app raises onto a problem response."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.slug,
            exc.detail,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own details are the English status phrase: use ours instead.
        own = isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase
        detail = exc.detail if own else None
        return problem_response(
            exc.status_code, detail=detail, instance=request.url.path, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        first = errors[0] if errors else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        detail = f"Ошибка в поле {where}: {first['msg']}" if first else None
        return problem_response(422, detail=detail, instance=request.url.path, errors=errors)

    @app.exception_handler(BillingError)
    async def _billing(request: Request, exc: BillingError) -> JSONResponse:
        return problem_response(422, "billing-data-invalid", str(exc), instance=request.url.path)

    @app.exception_handler(PayloadError)
    async def _payload(request: Request, exc: PayloadError) -> JSONResponse:
        return problem_response(
            422, "payload-invalid", exc.detail, instance=request.url.path, reason=exc.reason
        )

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return store_problem(request, exc, retryable=exc.retryable)

    async def _driver(request: Request, exc: Exception) -> JSONResponse:
        return store_problem(request, exc, retryable=isinstance(exc, RETRYABLE))

    # Raised by the driver outside a ``store_errors`` block: mapped as StoreError would be.
    for kind in DRIVER_ERRORS:
        app.add_exception_handler(kind, _driver)

    @app.exception_handler(ConfigError)
    async def _config(request: Request, exc: ConfigError) -> JSONResponse:
        return problem_response(422, "config-invalid", str(exc), instance=request.url.path)

    @app.exception_handler(UchetError)
    async def _uchet(request: Request, exc: UchetError) -> JSONResponse:
        return problem_response(422, "uchet-error", str(exc), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", where(request))
        return problem_response(500, "internal", "internal error", instance=request.url.path)
