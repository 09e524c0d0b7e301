"""``uchet notify``: notifications to residents and operators (issue 21) — enqueue each kind,
run the sender, list what was sent, failed and why, read bounce reports, set a resident's
contacts and opt-outs. SMTP and webhook settings come from the options or the environment
(UCHET_SMTP_*, UCHET_NOTIFY_*; adapters.notify.settings); a channel without settings is not
sent (its messages wait)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HELP = "уведомления жителям и операторам: очередь, отправка, список, возвраты писем"
ENQUEUE_KINDS = (
    "reading_window_open", "reading_window_closes", "reading_received", "epd_ready", "debt",
    "operator",
)  # fmt: skip


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    n = sub.add_parser("notify", help=HELP, description=HELP)
    nsub = n.add_subparsers(dest="notify_cmd", metavar="ACTION", required=True)
    p = nsub.add_parser(
        "enqueue-reminders", help="«передайте показания» по счётчикам без показаний"
    )
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.add_argument("--window-from", type=int, default=23, help="первый день окна приёма показаний")
    p.add_argument("--window-to", type=int, default=25, help="последний день окна приёма показаний")
    p.set_defaults(func=cmd_enqueue_reminders, kind="reading_window_open")

    p = nsub.add_parser(
        "enqueue", help="поставить в очередь сообщения одного вида (каждое один раз)"
    )
    p.add_argument("--kind", required=True, choices=ENQUEUE_KINDS)
    p.add_argument("--period", "--month", dest="period", help="YYYY-MM (виды с окном приёма, epd)")
    p.add_argument("--window-from", type=int, default=23, help="первый день окна приёма показаний")
    p.add_argument("--window-to", type=int, default=25, help="последний день окна приёма показаний")
    p.add_argument("--since-hours", type=float, default=24.0,
                   help="reading_received: показания за столько последних часов")  # fmt: skip
    p.add_argument("--threshold", default="1000.00",
                   help="debt: долг больше стольких рублей, 1234.50 (на сегодня)")  # fmt: skip
    p.add_argument("--balance-percent", type=float, default=15.0,
                   help="operator: небаланс дома больше этого, %%")  # fmt: skip
    p.add_argument(
        "--balance-days", type=int, default=30, help="operator: баланс за столько последних дней"
    )
    p.add_argument("--offline-hours", type=int, default=24,
                   help="operator: устройство недоступно дольше стольких часов")  # fmt: skip
    p.set_defaults(func=cmd_enqueue)

    p = nsub.add_parser("send", help="отправлять то, чему пришёл срок (до остановки или с --once)")
    p.add_argument("--once", action="store_true", help="остановиться, когда отправлять нечего")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument(
        "--lease",
        type=float,
        default=300.0,
        help="сколько секунд взятое сообщение закреплено за отправителем",
    )
    p.add_argument(
        "--max-attempts", type=int, default=6, help="попыток отправки, затем — в недоставленные"
    )
    p.add_argument("--connections", type=int, help="сообщений в отправке одновременно "
                   "(UCHET_NOTIFY_CONNECTIONS, 4)")  # fmt: skip
    p.add_argument("--domain-per-minute", type=int, help="писем в минуту на один домен "
                   "(UCHET_NOTIFY_DOMAIN_PER_MINUTE; 0: без ограничения)")  # fmt: skip
    p.add_argument("--smtp-host", default=_env("UCHET_SMTP_HOST"))
    p.add_argument("--smtp-port", type=int, default=int(_env("UCHET_SMTP_PORT", "25") or 25))
    p.add_argument("--smtp-from", default=_env("UCHET_SMTP_FROM", "uchet@localhost"))
    p.add_argument(
        "--smtp-starttls", action="store_true", default=bool(_env("UCHET_SMTP_STARTTLS"))
    )
    p.add_argument("--smtp-user", default=_env("UCHET_SMTP_USER"))
    p.add_argument("--webhook-url", default=_env("UCHET_NOTIFY_WEBHOOK_URL"))
    p.set_defaults(func=cmd_send)

    p = nsub.add_parser(
        "list", help="исходящие, новые сверху: отправленные, ожидающие, недоставленные и почему"
    )
    p.add_argument(
        "--status", choices=("pending", "sending", "sent", "failed", "dead", "bounced", "waiting")
    )
    p.add_argument("--account")
    p.add_argument("--kind")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="по объекту JSON на строку")
    p.set_defaults(func=cmd_list)

    p = nsub.add_parser(
        "bounces", help="прочитать отчёты о недоставке (RFC 3464 DSN: .eml или mbox)"
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=cmd_bounces)

    p = nsub.add_parser("contact", help="задать адрес жителя для канала")
    p.add_argument("account")
    p.add_argument("channel", choices=("email", "webhook"))
    p.add_argument("address")
    p.add_argument("--confirmed", action="store_true", help="адрес подтверждён")
    p.set_defaults(func=cmd_contact)

    p = nsub.add_parser("opt", help="подписать жителя на вид уведомлений в канале или отписать")
    p.add_argument("account")
    p.add_argument("channel", choices=("email", "webhook"))
    p.add_argument("kind")
    p.add_argument("choice", choices=("in", "out"))
    p.set_defaults(func=cmd_opt)


def _url() -> str:
    from api.runtime import database_url, settings

    return database_url(settings())


def _with_conn(work: Any) -> Any:
    from adapters.store.connections import single

    async def go() -> Any:
        async with single(_url()) as conn:
            return await work(conn)

    return asyncio.run(go())


def _period(args: argparse.Namespace) -> str:
    from core.errors import UchetError
    from core.periods import parse_period

    if not args.period:
        raise UchetError(f"--kind {args.kind} needs --period YYYY-MM")
    try:
        parse_period(args.period)
    except ValueError as exc:
        raise UchetError(f"--period {args.period!r}: {exc}") from None
    return str(args.period)


def cmd_enqueue_reminders(args: argparse.Namespace) -> int:
    return cmd_enqueue(args)


def cmd_enqueue(args: argparse.Namespace) -> int:
    from adapters.notify.settings import notify_settings
    from api.runtime import settings
    from ingest import notify

    tz = settings().timezone
    kind = args.kind
    if kind in ("reading_window_open", "reading_window_closes"):
        period = _period(args)
        work: Any = lambda conn: notify.enqueue_reading_reminders(  # noqa: E731
            conn, period, timezone=tz, first_day=args.window_from, last_day=args.window_to,
            kind=kind,
        )  # fmt: skip
    elif kind == "epd_ready":
        period = _period(args)
        url = notify_settings().public_url
        work = lambda conn: notify.enqueue_epd_ready(conn, period, url)  # noqa: E731
    elif kind == "debt":
        period = _period(args)
        threshold = _kopecks(args.threshold)
        work = lambda conn: _enqueue_debts(conn, period, threshold)  # noqa: E731
    elif kind == "reading_received":
        since = datetime.now(UTC) - timedelta(hours=args.since_hours)
        period = f"since {since:%Y-%m-%d %H:%M} UTC"
        work = lambda conn: notify.enqueue_received_since(conn, since, tz)  # noqa: E731
    else:
        s = notify_settings()
        targets = notify.OperatorTargets(s.operator_email, s.operator_chat)
        if not targets.channels():
            from core.errors import UchetError

            raise UchetError(
                "operator alerts need UCHET_NOTIFY_OPERATOR_EMAIL and/or "
                "UCHET_NOTIFY_OPERATOR_CHAT (where they go)"
            )
        period = "now"
        work = lambda conn: notify.enqueue_operator_alerts(  # noqa: E731
            conn, targets, balance_percent=args.balance_percent, balance_days=args.balance_days,
            offline_hours=args.offline_hours, timezone=tz,
        )  # fmt: skip
    written = _with_conn(work)
    print(f"enqueued {written} message(s) for {period}")
    return 0


def _kopecks(text: str) -> int:
    from core.errors import UchetError
    from core.ledger import LedgerError
    from core.ledger.money import parse_money

    try:
        return int(parse_money(text, "--threshold"))
    except LedgerError as exc:
        raise UchetError(str(exc)) from None


async def _enqueue_debts(conn: Any, period: str, threshold: int) -> int:
    """Debt notices from the ledger's statements of ``period`` as of today (its last day when
    it is over): the overdue debt only (the periods past their due date, without penalty) and
    the due date of the oldest of them."""
    from api.routes.ledger_data import SETTINGS, debtor_months, report_day
    from api.runtime import settings
    from core.ledger.dates import parse_period
    from core.notify.reminders import overdue
    from ingest.notify import enqueue_debt_notices

    month = parse_period(period, "--period")
    today = datetime.now(ZoneInfo(settings().timezone)).date().toordinal()
    items, _ = await debtor_months(conn, month, report_day(month, today), None)
    debts = {m.account.id: found for m in items if (found := overdue(m.statement)) is not None}
    return await enqueue_debt_notices(conn, period, debts, threshold, SETTINGS.grace_days)


def cmd_send(args: argparse.Namespace) -> int:
    from adapters.notify.base import Sender
    from adapters.notify.email import SmtpConfig, SmtpSender
    from adapters.notify.settings import notify_settings
    from adapters.notify.webhook import WebhookConfig, WebhookSender
    from core.errors import UchetError
    from core.notify.backoff import RetryPolicy
    from ingest.notify import run

    s = notify_settings()
    connections = args.connections or s.connections
    senders: dict[str, Sender] = {}
    if args.smtp_host:
        senders["email"] = SmtpSender(SmtpConfig(
            host=args.smtp_host, port=args.smtp_port, sender=args.smtp_from,
            starttls=args.smtp_starttls, username=args.smtp_user,
            password=_env("UCHET_SMTP_PASSWORD"),
        ), connections)  # fmt: skip
    if args.webhook_url:
        secret = _env("UCHET_NOTIFY_WEBHOOK_SECRET")
        if not secret:
            raise UchetError("--webhook-url needs UCHET_NOTIFY_WEBHOOK_SECRET (the HMAC key)")
        senders["webhook"] = WebhookSender(WebhookConfig(args.webhook_url, secret.encode()))
    if not senders:
        raise UchetError("no channel configured: give --smtp-host and/or --webhook-url")
    policy = RetryPolicy(max_attempts=args.max_attempts)
    per_minute = s.domain_per_minute if args.domain_per_minute is None else args.domain_per_minute
    report = _with_conn(
        lambda conn: run(
            conn, senders, policy, once=args.once, limit=args.batch, lease_seconds=args.lease,
            concurrency=connections, domain_per_minute=per_minute,
        )
    )  # fmt: skip
    print(
        f"sent {report.sent}, to retry {report.retried}, dead {report.dead}"
        + (f", bounced {report.bounced}" if report.bounced else "")
        + (f", waiting for their domain's rate {report.deferred}" if report.deferred else "")
        + (f", left to another sender (lease ran out) {report.lost}" if report.lost else "")
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from adapters.store.outbox import messages

    rows = _with_conn(
        lambda conn: messages(conn, args.status, args.account, args.limit, kind=args.kind)
    )
    for r in rows:
        if args.json:
            print(json.dumps(r, ensure_ascii=False, default=str))
        else:
            error = f" — {r['last_error']}" if r["last_error"] else ""
            print(f"{r['id']} {r['created_at']:%Y-%m-%d %H:%M} {r['status']} {r['kind']} "
                  f"{r['period']} {r['account']} {r['channel']}:{r['address']} "
                  f"attempts {r['attempts']}{error}")  # fmt: skip
    return 0


def _dsn_messages(path: Path) -> list[bytes]:
    """The messages of a file: one .eml, or an mbox (``From `` lines)."""
    import mailbox

    from core.errors import UchetError

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UchetError(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.startswith(b"From "):
        return [raw]
    box = mailbox.mbox(path, create=False)
    try:
        return [m.as_bytes() for m in box]
    finally:
        box.close()


def cmd_bounces(args: argparse.Namespace) -> int:
    from adapters.store.notify_prefs import outbox_id_of, record_bounce
    from core.errors import UchetError
    from core.notify.dsn import Bounce, parse_dsn

    found: list[tuple[Path, int, Bounce]] = []
    for path in args.files:
        for i, raw in enumerate(_dsn_messages(path), 1):
            try:
                found += [(path, i, b) for b in parse_dsn(raw)]
            except ValueError as exc:
                raise UchetError(f"{path}: message {i}: {exc}") from None

    async def work(conn: Any) -> int:
        marked = 0
        async with conn.transaction():
            for _, _, b in found:
                message_id = await outbox_id_of(conn, b.idem_key) if b.idem_key else None
                marked += await record_bounce(
                    conn, b.recipient, source="dsn", permanent=b.permanent, status=b.status,
                    reason=f"{b.action}: {b.diagnostic}", message_id=message_id,
                )  # fmt: skip
        return marked

    marked = _with_conn(work)
    for path, i, b in found:
        kind = "permanent" if b.permanent else b.action or "?"
        print(f"{path}#{i}: {b.recipient} {b.status} {kind} — {b.diagnostic}")
    permanent = sum(b.permanent for _, _, b in found)
    print(f"bounces {len(found)}, permanent {permanent}, contacts marked undeliverable {marked}")
    return 0


def cmd_contact(args: argparse.Namespace) -> int:
    from adapters.store.notify_prefs import set_contact

    _with_conn(
        lambda conn: set_contact(
            conn, args.account, args.channel, args.address, confirmed=args.confirmed
        )
    )
    return 0


def cmd_opt(args: argparse.Namespace) -> int:
    from adapters.store.notify_prefs import set_pref
    from core.notify.kinds import check_resident_kind

    try:
        check_resident_kind(args.kind)
    except ValueError as exc:
        from core.errors import UchetError

        raise UchetError(str(exc)) from exc
    _with_conn(
        lambda conn: set_pref(conn, args.account, args.channel, args.kind, args.choice == "in")
    )
    return 0
