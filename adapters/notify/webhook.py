"""Signed HTTP webhooks for SMS/messenger gateways (httpx): a JSON body signed with
HMAC-SHA256 (core.notify.signing) and the message's idempotency key, the same on every retry."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx

from adapters.notify.base import SendFailed
from adapters.store.outbox import Message
from core.notify.signing import headers


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    secret: bytes
    timeout: float = 10.0


def body(message: Message) -> bytes:
    return json.dumps(
        {
            "id": message.idem_key,
            "account": message.account,
            "kind": message.kind,
            "period": message.period,
            "to": message.address,
            "subject": message.subject,
            "text": message.body_text,
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode()


class WebhookSender:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.config.timeout)

    async def send(self, message: Message) -> None:
        if self._client is None:
            await self.open()
        assert self._client is not None
        data = body(message)
        sign = headers(self.config.secret, int(time.time()), data, message.idem_key)
        try:
            r = await self._client.post(self.config.url, content=data, headers=sign)
        except httpx.HTTPError as exc:
            raise SendFailed(f"webhook: {type(exc).__name__}: {exc}") from exc
        if r.is_success:
            return
        permanent = 400 <= r.status_code < 500 and r.status_code not in (408, 429)
        raise SendFailed(f"webhook: HTTP {r.status_code} {r.text[:200]}", permanent=permanent)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
