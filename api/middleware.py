"""ASGI middleware: request size limits (413 before the body is read), NUL in parameters
(422 before anything reaches PostgreSQL, whose text cannot hold it) and request metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics, route_template
from api.problems import problem_response


class LimitsAndMetrics:
    """Refuses bodies over the limit of their path; times every request by route template."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body: int,
        max_upload: int,
        is_upload: Callable[[str], bool],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.max_upload = max_upload
        self.is_upload = is_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.max_upload if self.is_upload(path) else self.max_body
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            length = _content_length(scope)
            if length is not None and length > limit:
                status = 413
                await _too_large(limit, path)(scope, receive, send)
                return
            where = _nul_in_target(scope)
            if where is None and _buffers_body(scope, self.is_upload(path)):
                body = await _read_body(receive, limit)
                if body is None:
                    status = 413
                    await _too_large(limit, path)(scope, receive, send)
                    return
                where = _nul_in_body(scope, body)
                receive = _replay(body, receive)
            if where is not None:
                status = 422
                await _nul_problem(where, path)(scope, receive, send)
                return
            received = 0

            async def receive_limited() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        # FastAPI passes an HTTPException from reading the body through.
                        raise HTTPException(413, _too_large_detail(limit))
                return message

            await self.app(scope, receive_limited, send_wrapper)
        finally:
            template = route_template(scope)
            self.metrics.observe_request(
                scope["method"], template, status, time.perf_counter() - started
            )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large_detail(limit: int) -> str:
    return f"Запрос больше допустимого размера ({limit} байт)"


def _too_large(limit: int, path: str) -> ASGIApp:
    return problem_response(413, detail=_too_large_detail(limit), instance=path)


# NUL (U+0000) in any parameter: refused with 422 naming where, never sent to PostgreSQL
# (which refuses it in text: the request once failed with 409 or 500).

NUL = "\x00"
_FORM = b"application/x-www-form-urlencoded"
_JSON = b"application/json"


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def _nul_in_target(scope: Scope) -> str | None:
    if NUL in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return _nul_in_pairs("query", query)
    return None


def _nul_in_pairs(part: str, data: bytes) -> str | None:
    for key, value in parse_qsl(data.decode("latin-1"), keep_blank_values=True):
        if NUL in key or NUL in value:
            name = key.replace(NUL, "\\x00")
            return f"{part}.{name}"
    return None


def _buffers_body(scope: Scope, upload: bool) -> bool:
    if upload or scope["method"] not in ("POST", "PUT", "PATCH"):
        return False
    kind = _header(scope, b"content-type").split(b";")[0].strip().lower()
    return kind in (_FORM, _JSON) or kind.endswith(b"+json")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body (these are small: JSON and forms are limited to ``api_max_body``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _nul_in_body(scope: Scope, body: bytes) -> str | None:
    kind = _header(scope, b"content-type").split(b";")[0].strip().lower()
    if kind == _FORM:
        return _nul_in_pairs("body", body) if b"%00" in body or b"\x00" in body else None
    if b"\\u0000" not in body:  # JSON holds NUL only as this escape (cheap test first)
        return None
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None  # the route answers the malformed JSON
    return _nul_in_json(doc, "body")


def _nul_in_json(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return where if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key).replace(NUL, "\\x00")
            if NUL in str(key):
                return f"{where}.{name}"
            found = _nul_in_json(item, f"{where}.{name}")
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_in_json(item, f"{where}.{i}")
            if found:
                return found
    return None


def _nul_problem(where: str, path: str) -> ASGIApp:
    loc: list[str | int] = [int(p) if p.isascii() and p.isdigit() else p for p in where.split(".")]
    msg = "the NUL character (\\x00) is not allowed"
    return problem_response(
        422,
        "validation-error",
        f"Ошибка в поле {where}: недопустимый символ NUL (\\x00)",
        instance=path.replace(NUL, "\\x00"),
        errors=[{"loc": loc, "msg": msg, "type": "nul_character"}],
    )
