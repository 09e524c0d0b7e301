"""The notification sender loop and the enqueuers of every kind (issue 21).

Never twice, never lost: a message is claimed (``sending``, with a lease), sent, and marked
``sent`` at once. A sender killed between claim and mark leaves its rows ``sending``; when the
lease runs out another sender claims them and sends them again with the same idempotency key
(webhook header, SMTP Message-ID), by which the receiver drops the copy of one that had gone
out. Each claim has its own lease token: a slow sender whose lease ran out (its message
reclaimed by another) renews the lease before sending and skips the message when it lost it,
and its late marks change nothing. A sender cancelled gives back what it had not started yet.
Up to ``concurrency`` messages are in flight at once (one SMTP connection each); the marks go
one at a time over the one database connection. E-mail is throttled per recipient domain; a
5xx refusal of the address is a bounce: recorded, the address marked undeliverable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from adapters.notify.base import Sender, SendFailed
from adapters.store.connections import Connection
from adapters.store.dashboard import house_imbalances
from adapters.store.notify_events import (
    Received,
    accrued_accounts,
    manual_readings_since,
    meters_without_reading,
    offline_devices,
    readings_at,
)
from adapters.store.notify_prefs import record_bounce
from adapters.store.outbox import (
    Message,
    claim,
    defer,
    enqueue,
    enqueue_to,
    mark_failed,
    mark_sent,
    renew,
)
from adapters.store.outbox import release as release_claims
from core.channels import CANONICAL_UNIT
from core.codes import Flag
from core.notify.backoff import RetryPolicy
from core.notify.kinds import (
    DEBT,
    DEVICE_OFFLINE,
    EMAIL,
    EMAIL_CONFIRM,
    EPD_READY,
    HOUSE_BALANCE,
    OPERATOR_ACCOUNT,
    READING_RECEIVED,
    READING_WINDOW_OPEN,
    WEBHOOK,
)
from core.notify.reminders import GRACE_DAYS, debt_params, missing_by_account, window
from core.notify.templates import number, unit_name
from core.notify.throttle import DomainLimiter, domain_of
from core.periods import month_bounds, parse_period

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # over a domain's rate: back to the queue, for later
    bounced: int = 0
    lost: int = 0  # its lease ran out while it waited its turn: another sender has it
    errors: list[str] = field(default_factory=list)

    def add(self, other: BatchReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead
        self.deferred += other.deferred
        self.bounced += other.bounced
        self.lost += other.lost
        self.errors += other.errors


async def send_batch(
    conn: Connection,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    *,
    limit: int = 100,
    lease_seconds: float = 300.0,
    concurrency: int = 1,
    limiter: DomainLimiter | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> BatchReport:
    """Claims up to ``limit`` due messages of the channels in ``senders``, sends and marks
    each. A message of a channel without a sender is not claimed. Each one's lease is renewed
    when its turn comes (it may have waited behind slow ones); one whose lease already ran
    out is skipped: another sender may have reclaimed it."""
    report = BatchReport()
    batch: list[Message] = []
    for channel in senders:
        batch += await claim(conn, limit - len(batch), lease_seconds, channel)
    report.claimed = len(batch)
    not_started = {m.id: m for m in batch}
    db = asyncio.Lock()  # one database connection: one statement at a time
    gate = asyncio.Semaphore(max(1, concurrency))
    bounced: set[str] = set()

    async def one(m: Message) -> None:
        async with gate:
            not_started.pop(m.id, None)
            async with db:
                held = await renew(conn, m, lease_seconds)
            if not held:
                report.lost += 1
                log.warning("notification %s: lease lost before sending, skipped", m.id)
                return
            wait = (
                limiter.take(domain_of(m.address), clock()) if limiter and m.channel == EMAIL else 0
            )
            if wait:
                async with db:
                    await defer(conn, m, _now() + timedelta(seconds=wait))
                report.deferred += 1
                return
            if m.channel == EMAIL and m.address.lower() in bounced:
                failed: SendFailed | None = SendFailed(
                    "адрес недоставляем (bounce)", permanent=True
                )
            else:
                failed = None
                try:  # from here a crash re-sends it: the receiver dedupes by its key
                    await senders[m.channel].send(m)
                except SendFailed as exc:
                    failed = exc
            async with db:
                if failed is None:
                    if not await mark_sent(conn, m):
                        log.warning("notification %s sent after its lease ran out", m.id)
                    report.sent += 1
                else:
                    await _failed(conn, m, failed, policy, report)
                    if failed.bounce:
                        bounced.add(m.address.lower())

    try:
        await asyncio.gather(*(one(m) for m in batch))
    except asyncio.CancelledError:
        # what was not started goes back at once; what was in flight waits for its lease
        if not_started:
            async with db:
                await asyncio.shield(release_claims(conn, list(not_started.values())))
        raise
    return report


async def _failed(
    conn: Connection, m: Message, exc: SendFailed, policy: RetryPolicy, report: BatchReport
) -> None:
    dead = exc.permanent or policy.is_dead(m.attempts)
    retry_at = None if dead else _now() + timedelta(seconds=policy.delay(m.attempts))
    async with conn.transaction():
        if not await mark_failed(conn, m, str(exc), retry_at):
            log.warning("notification %s failed after its lease ran out", m.id)
        if exc.bounce:
            await record_bounce(
                conn, m.address, source="smtp", permanent=True, status=str(exc.code),
                reason=str(exc), message_id=m.id,
            )  # fmt: skip
    report.dead += dead
    report.retried += not dead
    report.bounced += exc.bounce
    report.errors.append(f"{m.id} {m.channel} {m.address}: {exc}")
    log.warning("notification %s to %s failed: %s", m.id, m.address, exc)


def _now() -> datetime:
    return datetime.now(UTC)


async def run(
    conn: Connection,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    *,
    once: bool = False,
    limit: int = 100,
    lease_seconds: float = 300.0,
    idle_seconds: float = 5.0,
    concurrency: int = 1,
    domain_per_minute: int = 0,
) -> BatchReport:
    """Sends until cancelled (or, ``once``, until nothing is due). Returns the totals."""
    total = BatchReport()
    limiter = DomainLimiter(domain_per_minute)
    for s in senders.values():
        await s.open()
    try:
        while True:
            r = await send_batch(
                conn, senders, policy, limit=limit, lease_seconds=lease_seconds,
                concurrency=concurrency, limiter=limiter,
            )  # fmt: skip
            total.add(r)
            if r.claimed == r.deferred:  # nothing due, or only what must wait for its domain
                if once:
                    return total
                await asyncio.sleep(idle_seconds)
    finally:
        for s in senders.values():
            await s.close()


async def enqueue_reading_reminders(
    conn: Connection,
    period: str,
    *,
    timezone: str = "Europe/Moscow",
    first_day: int = 23,
    last_day: int = 25,
    kind: str = READING_WINDOW_OPEN,
) -> int:
    """One «передайте показания» (``reading_window_open``) or «приём закрывается»
    (``reading_window_closes``) per account having a meter without a reading in ``period``
    (so far); each account once per period and kind, however often this runs."""
    year, month = parse_period(period)
    start, end = month_bounds(year, month, timezone)
    window_from, window_to = window(period, first_day, last_day)
    written = 0
    async with conn.transaction():
        rows = await meters_without_reading(conn, start, end)
        for account, meters in missing_by_account(rows).items():
            params = {
                "period": period,
                "window_from": window_from,
                "window_to": window_to,
                "meters": meters,
            }
            written += await enqueue(conn, account, kind, period, params)
    return written


async def enqueue_debt_notices(
    conn: Connection,
    period: str,
    debts: Mapping[str, tuple[int, date]],
    threshold_kopecks: int,
    grace_days: int = GRACE_DAYS,
) -> int:
    """One debt notice per account whose overdue debt (kopecks, oldest unpaid due date) is
    above the threshold, once per period; penalties from the ``grace_days`` + 1st day."""
    written = 0
    async with conn.transaction():
        for account, params in debt_params(period, debts, threshold_kopecks, grace_days).items():
            written += await enqueue(conn, account, DEBT, period, params)
    return written


def epd_link(public_url: str, period: str) -> str:
    return f"{public_url.rstrip('/')}/cabinet/epd/{period}.pdf"


async def enqueue_epd_ready(conn: Connection, period: str, public_url: str) -> int:
    """«Готов ЕПД» with the link to its download, once per account with accruals in the month."""
    year, month = parse_period(period)
    written = 0
    async with conn.transaction():
        for account, total in await accrued_accounts(conn, date(year, month, 1)):
            params = {
                "period": period,
                "total": f"{total.quantize(Decimal('0.01'))}",
                "link": epd_link(public_url, period),
            }
            written += await enqueue(conn, account, EPD_READY, period, params)
    return written


def reading_key(meter_id: int, ts: datetime) -> str:
    """The outbox «period» of a reading's confirmation: one message per stored reading."""
    return f"{meter_id}@{ts.astimezone(UTC).isoformat()}"


async def enqueue_readings_received(
    conn: Connection, readings: Sequence[Received], timezone: str | tzinfo = "Europe/Moscow"
) -> int:
    """«Показание принято» for each of these readings, once per reading."""
    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    written = 0
    async with conn.transaction():
        for r in readings:
            params = {
                "meter": r.meter,
                "service": r.service,
                "value": number(r.value),
                "unit": unit_name(r.unit),
                "at": r.ts.astimezone(tz).replace(tzinfo=None).isoformat(timespec="minutes"),
            }
            key = reading_key(r.meter_id, r.ts)
            written += await enqueue(conn, r.account, READING_RECEIVED, key, params)
    return written


async def enqueue_received_since(
    conn: Connection, since: datetime, timezone: str = "Europe/Moscow", max_age_days: int = 45
) -> int:
    """The catch-up: confirmations of readings entered by a person (a resident's submission,
    flag ``manual``) received since ``since`` that were not enqueued yet (the process that
    took them stopped before its hook ran). Idempotent: a reading already told is skipped."""
    oldest = since - timedelta(days=max_age_days)
    found = await manual_readings_since(conn, since, oldest, int(Flag.MANUAL))
    return await enqueue_readings_received(conn, found, timezone)


async def enqueue_received_at(
    conn: Connection, keys: Sequence[tuple[int, datetime]], timezone: str | tzinfo = "Europe/Moscow"
) -> int:
    """Confirmations of the readings just stored at these (meter id, ts)."""
    return await enqueue_readings_received(conn, await readings_at(conn, keys), timezone)


_hooks: set[asyncio.Task[Any]] = set()


def after_submission(
    pool: Any, keys: Sequence[tuple[int, datetime]], timezone: str | tzinfo
) -> None:
    """The submission queue's hook: enqueues the confirmations of the readings it has just
    written, in the background (the resident's answer does not wait; a failure is logged and
    ``uchet notify enqueue --kind reading_received`` catches up)."""
    if not keys:
        return

    async def go() -> None:
        try:
            async with pool.acquire() as conn:
                await enqueue_received_at(conn, list(keys), timezone)
        except Exception as exc:  # never the resident's problem
            log.warning("reading confirmations of %d reading(s) not enqueued: %s", len(keys), exc)

    task = asyncio.get_running_loop().create_task(go(), name="notify-received")
    _hooks.add(task)
    task.add_done_callback(_hooks.discard)


async def enqueue_confirmation(
    conn: Connection, account: str, address: str, link: str, expires_local: datetime
) -> int:
    """The confirmation of a new e-mail address, sent even though it is not confirmed yet:
    once per (account, address, link)."""
    params = {
        "address": address,
        "link": link,
        "expires": expires_local.replace(tzinfo=None).isoformat(timespec="minutes"),
    }
    key = "confirm:" + link.rpartition("/")[2][-24:]
    return await enqueue_to(conn, account, EMAIL_CONFIRM, key, EMAIL, address, params)


@dataclass(frozen=True, slots=True)
class OperatorTargets:
    email: str | None = None
    chat: str | None = None  # the operators' address on the webhook gateway

    def channels(self) -> list[tuple[str, str]]:
        return [(c, a) for c, a in ((EMAIL, self.email), (WEBHOOK, self.chat)) if a]


async def enqueue_operator_alerts(
    conn: Connection,
    targets: OperatorTargets,
    *,
    balance_percent: float = 15.0,
    balance_days: int = 30,
    offline_hours: int = 24,
    timezone: str = "Europe/Moscow",
    now: datetime | None = None,
) -> int:
    """Alerts to the operators: a house whose balance (VEE, the last ``balance_days`` days,
    every premise covered) is off by more than ``balance_percent`` (once per house, service
    and month), a device offline for more than ``offline_hours`` (once per outage)."""
    if not targets.channels():
        return 0
    tz = ZoneInfo(timezone)
    alerts: list[tuple[str, str, dict[str, Any]]] = []
    for h in await house_imbalances(conn, days=balance_days, limit=100_000):
        if h.ratio is None or abs(h.ratio) * 100 <= balance_percent:
            continue
        params: dict[str, Any] = {
            "house": h.house, "address": h.address or h.house, "service": h.service,
            "percent": number(h.ratio * 100, 1), "first_day": h.first_day.isoformat(),
            "last_day": h.last_day.isoformat(), "house_volume": number(h.house_volume or 0.0, 3),
            "premises_volume": number(h.premises_volume, 3), "unit": _service_unit(h.service),
        }  # fmt: skip
        alerts.append((HOUSE_BALANCE, f"{h.house}/{h.service}/{h.last_day:%Y-%m}", params))
    moment = now or _now()
    for d in await offline_devices(conn, moment - timedelta(hours=offline_hours)):
        params = {
            "source": d.source, "device": d.device, "bus": d.bus,
            "since": d.since.astimezone(tz).replace(tzinfo=None).isoformat(timespec="minutes"),
            "hours": int((moment - d.since).total_seconds() // 3600),
            "last_error": d.last_error or "",
        }  # fmt: skip
        alerts.append((DEVICE_OFFLINE, f"{d.source}/{d.device}/{d.since.isoformat()}", params))
    written = 0
    async with conn.transaction():
        for kind, key, params in alerts:
            for channel, address in targets.channels():
                written += await enqueue_to(
                    conn, OPERATOR_ACCOUNT, kind, key, channel, address, params
                )
    return written


def _service_unit(service: str) -> str:
    return unit_name(CANONICAL_UNIT.get(service, ""))
