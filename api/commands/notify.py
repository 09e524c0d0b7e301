"""``uchet notify``: notifications to residents (issue 21) — enqueue the reminders of a
period, run the sender, list what was sent, failed and why, set a resident's contacts and
opt-outs. SMTP and webhook settings come from the options or the environment (UCHET_SMTP_*,
UCHET_NOTIFY_WEBHOOK_*); a channel without settings is not sent (its messages wait)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

HELP = "notifications to residents: enqueue reminders, send, list"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    n = sub.add_parser("notify", help=HELP, description=HELP)
    nsub = n.add_subparsers(dest="notify_cmd", metavar="ACTION", required=True)
    p = nsub.add_parser("enqueue-reminders", help="«передайте показания» for meters unread")
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.add_argument("--window-from", type=int, default=23, help="first day of the window")
    p.add_argument("--window-to", type=int, default=25, help="last day of the window")
    p.set_defaults(func=cmd_enqueue_reminders)

    p = nsub.add_parser("send", help="send what is due (until stopped, or --once)")
    p.add_argument("--once", action="store_true", help="stop when nothing is due")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--lease", type=float, default=300.0, help="seconds a claim is held")
    p.add_argument("--max-attempts", type=int, default=6, help="then dead-lettered")
    p.add_argument("--smtp-host", default=_env("UCHET_SMTP_HOST"))
    p.add_argument("--smtp-port", type=int, default=int(_env("UCHET_SMTP_PORT", "25") or 25))
    p.add_argument("--smtp-from", default=_env("UCHET_SMTP_FROM", "uchet@localhost"))
    p.add_argument(
        "--smtp-starttls", action="store_true", default=bool(_env("UCHET_SMTP_STARTTLS"))
    )
    p.add_argument("--smtp-user", default=_env("UCHET_SMTP_USER"))
    p.add_argument("--webhook-url", default=_env("UCHET_NOTIFY_WEBHOOK_URL"))
    p.set_defaults(func=cmd_send)

    p = nsub.add_parser("list", help="the outbox, newest first: sent, waiting, dead and why")
    p.add_argument("--status", choices=("pending", "sending", "sent", "dead"))
    p.add_argument("--account")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_list)

    p = nsub.add_parser("contact", help="set a resident's address on a channel")
    p.add_argument("account")
    p.add_argument("channel", choices=("email", "webhook"))
    p.add_argument("address")
    p.add_argument("--confirmed", action="store_true", help="the address is confirmed")
    p.set_defaults(func=cmd_contact)

    p = nsub.add_parser("opt", help="opt a resident in or out of a kind on a channel")
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


def cmd_enqueue_reminders(args: argparse.Namespace) -> int:
    from api.runtime import settings
    from ingest.notify import enqueue_reading_reminders

    tz = settings().timezone
    written = _with_conn(
        lambda conn: enqueue_reading_reminders(
            conn, args.period, timezone=tz, first_day=args.window_from, last_day=args.window_to
        )
    )
    print(f"enqueued {written} message(s) for {args.period}")
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    from adapters.notify.base import Sender
    from adapters.notify.email import SmtpConfig, SmtpSender
    from adapters.notify.webhook import WebhookConfig, WebhookSender
    from core.errors import UchetError
    from core.notify.backoff import RetryPolicy
    from ingest.notify import run

    senders: dict[str, Sender] = {}
    if args.smtp_host:
        senders["email"] = SmtpSender(SmtpConfig(
            host=args.smtp_host, port=args.smtp_port, sender=args.smtp_from,
            starttls=args.smtp_starttls, username=args.smtp_user,
            password=_env("UCHET_SMTP_PASSWORD"),
        ))  # fmt: skip
    if args.webhook_url:
        secret = _env("UCHET_NOTIFY_WEBHOOK_SECRET")
        if not secret:
            raise UchetError("--webhook-url needs UCHET_NOTIFY_WEBHOOK_SECRET (the HMAC key)")
        senders["webhook"] = WebhookSender(WebhookConfig(args.webhook_url, secret.encode()))
    if not senders:
        raise UchetError("no channel configured: give --smtp-host and/or --webhook-url")
    policy = RetryPolicy(max_attempts=args.max_attempts)
    report = _with_conn(
        lambda conn: run(
            conn, senders, policy, once=args.once, limit=args.batch, lease_seconds=args.lease
        )
    )
    print(f"sent {report.sent}, to retry {report.retried}, dead {report.dead}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from adapters.store.outbox import messages

    rows = _with_conn(lambda conn: messages(conn, args.status, args.account, args.limit))
    for r in rows:
        if args.json:
            print(json.dumps(r, ensure_ascii=False, default=str))
        else:
            error = f" — {r['last_error']}" if r["last_error"] else ""
            print(f"{r['id']} {r['created_at']:%Y-%m-%d %H:%M} {r['status']} {r['kind']} "
                  f"{r['period']} {r['account']} {r['channel']}:{r['address']} "
                  f"attempts {r['attempts']}{error}")  # fmt: skip
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
    from core.notify.kinds import check_kind

    try:
        check_kind(args.kind)
    except ValueError as exc:
        from core.errors import UchetError

        raise UchetError(str(exc)) from exc
    _with_conn(
        lambda conn: set_pref(conn, args.account, args.channel, args.kind, args.choice == "in")
    )
    return 0
