"""Notifications over HTTP (issue #21): a resident's channels and choices (per kind ×
channel, a confirmed e-mail), the confirmation link, and the operators' log of what was sent,
failed and why. The cabinet's pages (api.web.notify_pages) call these same functions."""

from __future__ import annotations

import time
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator

from adapters.notify.settings import NotifySettings, notify_settings
from adapters.store.notify_prefs import (
    confirm_contact,
    contacts,
    delete_contact,
    prefs,
    set_contact,
    set_pref,
)
from adapters.store.outbox import STATES, count_messages, messages, recent
from api.deps import Resident, ResidentDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from api.state import Services
from core.errors import ConfigError
from core.notify.kinds import ALL_KINDS, CHANNELS, EMAIL, EMAIL_CONFIRM, KINDS, check_email
from core.notify.signing import check_confirm_token, confirm_token
from ingest.notify import enqueue_confirmation

router = APIRouter(tags=["notifications"])
CONFIRM_PATH = "/cabinet/notifications/confirm"
CONFIRM_PER_HOUR = 3  # confirmation e-mails per account, and per address, in any hour
MAX_OFFSET = 2**31 - 1


class Choice(BaseModel):
    kind: str = Field(description=", ".join(KINDS))
    channel: str = Field(description=", ".join(CHANNELS))
    enabled: bool


class ContactOut(BaseModel):
    address: str
    confirmed: bool
    undeliverable: str | None = Field(description="why nothing is sent there (a bounce)")


class Preferences(BaseModel):
    email: ContactOut | None
    webhook: ContactOut | None = Field(description="SMS/messenger; set by the operator")
    choices: list[Choice] = Field(description="every kind × channel; unchosen: opted in")
    confirmation_sent: bool = False


class PreferencesIn(BaseModel):
    email: str | None = Field(
        default=None, description="a new address gets a confirmation link; null: removed"
    )
    choices: list[Choice] = Field(default_factory=list, max_length=len(KINDS) * len(CHANNELS))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else check_email(value)


@lru_cache(maxsize=1)
def _settings() -> NotifySettings:
    return notify_settings()


def _secret(services: Services) -> bytes:
    try:
        return _settings().confirm_secret()
    except ConfigError:
        if services.settings.api_secret is not None:
            return services.settings.api_secret.get_secret_value().encode()
        raise ProblemError(
            503, "not-configured", "Подтверждение адреса не настроено (UCHET_NOTIFY_SECRET)"
        ) from None


async def read_preferences(resident: Resident, services: Services) -> Preferences:
    async with connection(services, "notification preferences") as conn:
        found = await contacts(conn, resident.account)
        chosen = await prefs(conn, resident.account)
    shown = {
        c: ContactOut(
            address=x.address, confirmed=x.confirmed, undeliverable=x.undeliverable_reason
        )
        for c, x in found.items()
    }
    return Preferences(
        email=shown.get(EMAIL),
        webhook=shown.get("webhook"),
        choices=[
            Choice(kind=k, channel=c, enabled=chosen.get((c, k), True))
            for k in KINDS
            for c in CHANNELS
        ],
    )


async def save_preferences(
    body: PreferencesIn, resident: Resident, services: Services
) -> Preferences:
    """Stores the choices and the e-mail; a new or changed e-mail is unconfirmed and gets the
    confirmation link (and nothing else until it is confirmed). Nothing is stored when the
    link cannot be sent (503: no public URL; 429: too many confirmations this hour)."""
    for c in body.choices:
        if c.kind not in KINDS or c.channel not in CHANNELS:
            raise ProblemError(422, "invalid", f"неизвестный вид или канал: {c.kind}/{c.channel}")
    sent = False
    async with connection(services, "save notification preferences") as conn:
        async with conn.transaction():
            for c in body.choices:
                await set_pref(conn, resident.account, c.channel, c.kind, c.enabled)
            if body.email is None:
                await delete_contact(conn, resident.account, EMAIL)
            else:
                address = body.email
                if await set_contact(conn, resident.account, EMAIL, address, confirmed=False):
                    sent = await _send_confirmation(conn, resident, address, services)
    out = await read_preferences(resident, services)
    out.confirmation_sent = sent
    return out


async def _send_confirmation(
    conn: Any, resident: Resident, address: str, services: Services
) -> bool:
    base_url = public_base()
    by_account, by_address, wait = await recent(
        conn, EMAIL_CONFIRM, resident.account, address, 3600
    )
    if max(by_account, by_address) >= CONFIRM_PER_HOUR:
        minutes = max(1, -(-int(wait) // 60))
        raise ProblemError(
            429, "rate-limited",
            f"Писем подтверждения не больше {CONFIRM_PER_HOUR} в час; повторите через "
            f"{minutes} мин",
            headers={"Retry-After": str(max(1, int(wait)))},
        )  # fmt: skip
    hours = _settings().confirm_hours
    expires = int(time.time()) + hours * 3600
    token = confirm_token(_secret(services), resident.account, address, expires)
    link = f"{base_url}{CONFIRM_PATH}?token={token}"
    local = datetime.fromtimestamp(expires, ZoneInfo(services.settings.timezone))
    return bool(await enqueue_confirmation(conn, resident.account, address, link, local))


async def resend_confirmation(resident: Resident, services: Services) -> bool:
    """False when there is nothing to confirm; 429 over the hourly limit, 503 without the
    public URL."""
    async with connection(services, "resend confirmation") as conn:
        found = (await contacts(conn, resident.account)).get(EMAIL)
        if found is None or found.confirmed:
            return False
        await _send_confirmation(conn, resident, found.address, services)
        return True  # sent, or the same link already queued (within the same second)


def public_base() -> str:
    """Where links in messages point: UCHET_NOTIFY_PUBLIC_URL. Never the request's own site
    (its Host header is the client's to choose: a link to any site in a genuine e-mail)."""
    if not _settings().public_url_set:
        raise ProblemError(
            503, "not-configured",
            "Отправка писем подтверждения не настроена: администратор должен указать адрес "
            "сайта (UCHET_NOTIFY_PUBLIC_URL)",
        )  # fmt: skip
    return _settings().public_url.rstrip("/")


def token_address(token: str, services: Services) -> str | None:
    """The address a valid, unexpired token is for (nothing confirmed); None otherwise."""
    found = check_confirm_token(_secret(services), token, int(time.time()))
    return None if found is None else found[1]


async def confirm(token: str, services: Services) -> tuple[str, str]:
    """(account, address) confirmed by the token; 404 for a bad, expired or stale one."""
    found = check_confirm_token(_secret(services), token, int(time.time()))
    if found is not None:
        async with connection(services, "confirm e-mail") as conn:
            if await confirm_contact(conn, found[0], EMAIL, found[1]):
                return found
    raise ProblemError(
        404, "not-found", "Ссылка недействительна или устарела; запросите новую в кабинете"
    )


@router.get("/v1/resident/notifications", response_model=Preferences, responses=responses(401))
async def get_preferences(resident: ResidentDep, services: ServicesDep) -> Preferences:
    """The resident's channels and choices of each kind on each channel."""
    return await read_preferences(resident, services)


@router.put(
    "/v1/resident/notifications", response_model=Preferences,
    responses=responses(401, 422, 429, 503),
)  # fmt: skip
async def put_preferences(
    body: PreferencesIn, resident: ResidentDep, services: ServicesDep
) -> Preferences:
    """Sets choices (the ones given) and the e-mail. A new e-mail gets a confirmation link;
    until it is followed nothing else is sent there. 429: more than 3 confirmation e-mails
    this hour (per account and per address); 503: the public URL of the links is not set."""
    return await save_preferences(body, resident, services)


class Confirmed(BaseModel):
    account: str
    address: str
    confirmed: bool = True


@router.get("/v1/notifications/confirm", response_model=Confirmed, responses=responses(404))
async def confirm_email(
    token: Annotated[str, Query(max_length=2000)], services: ServicesDep
) -> Confirmed:
    """Confirms an e-mail address by the signed token of the link sent to it."""
    account, address = await confirm(token, services)
    return Confirmed(account=account, address=address)


class OutboxItem(BaseModel):
    id: int
    account: str
    kind: str
    period: str
    channel: str
    address: str
    status: str
    attempts: int
    last_error: str | None
    bounced: bool
    subject: str
    created_at: datetime
    sent_at: datetime | None
    next_at: datetime


class OutboxPage(BaseModel):
    total: int
    items: list[OutboxItem]


State = Query(pattern="^(" + "|".join([*STATES, "pending", "sending"]) + ")$")


async def outbox_page(
    services: Services,
    *,
    status: str | None,
    kind: str | None,
    channel: str | None,
    account: str | None,
    limit: int,
    offset: int,
) -> OutboxPage:
    async with connection(services, "notification log") as conn:
        rows = await messages(
            conn, status, account, limit, kind=kind, channel=channel, offset=offset
        )
        total = await count_messages(conn, status, account, kind=kind, channel=channel)
    return OutboxPage(total=total, items=[OutboxItem(**r) for r in rows])


@router.get("/v1/operator/notifications", response_model=OutboxPage, responses=responses(401, 422))
async def operator_log(
    _: ViewerDep,
    services: ServicesDep,
    status: Annotated[str | None, State] = None,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(ALL_KINDS) + ")$")] = None,
    channel: Annotated[str | None, Query(pattern="^(email|webhook)$")] = None,
    account: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> OutboxPage:
    """What was sent, failed (to be retried), dead-lettered or bounced, and why; newest
    first. ``status``: sent, failed, dead, bounced, waiting (or pending, sending)."""
    return await outbox_page(
        services, status=status, kind=kind, channel=channel, account=account,
        limit=limit, offset=offset,
    )  # fmt: skip
