"""All SQL of notifications (issue 21): contacts, opt-in/opt-out, the outbox and its sender's
claims. Tables: migration 14 (adapters.store.notify_schema)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.store.connections import Connection
from core.notify.kinds import check_channel, check_kind
from core.notify.signing import idempotency_key
from core.notify.templates import render


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    account: str
    kind: str
    period: str
    channel: str
    address: str
    idem_key: str
    subject: str
    body_text: str
    body_html: str
    params: dict[str, Any]
    attempts: int


_COLUMNS = (
    "id, account, kind, period, channel, address, idem_key, subject, body_text, body_html,"
    " params, attempts"
)


def _message(r: Any) -> Message:
    return Message(**{**dict(r), "params": json.loads(r["params"])})


async def set_contact(
    conn: Connection, account: str, channel: str, address: str, *, confirmed: bool
) -> None:
    """The resident's address on a channel; a changed address must be confirmed again."""
    await conn.execute(
        """INSERT INTO notify_contacts (account, channel, address, confirmed)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (account, channel) DO UPDATE
           SET address = EXCLUDED.address, confirmed = EXCLUDED.confirmed, updated_at = now()""",
        account, check_channel(channel), address, confirmed,
    )  # fmt: skip


async def set_pref(conn: Connection, account: str, channel: str, kind: str, enabled: bool) -> None:
    """Opt in (``enabled``) or out of one kind on one channel."""
    await conn.execute(
        """INSERT INTO notify_prefs (account, channel, kind, enabled) VALUES ($1, $2, $3, $4)
           ON CONFLICT (account, channel, kind) DO UPDATE
           SET enabled = EXCLUDED.enabled, updated_at = now()""",
        account, check_channel(channel), check_kind(kind), enabled,
    )  # fmt: skip


async def enqueue(
    conn: Connection, account: str, kind: str, period: str, params: Mapping[str, Any]
) -> int:
    """Writes the message of (account, kind, period) for each confirmed channel the resident
    has not opted out of; an event already enqueued is not written again. Returns how many
    rows were written. Call it in the transaction of the event it tells about."""
    text = render(kind, params)  # refuses params it cannot render, before anything is written
    contacts = await conn.fetch(
        """SELECT c.channel, c.address FROM notify_contacts c
           WHERE c.account = $1 AND c.confirmed
             AND NOT EXISTS (SELECT 1 FROM notify_prefs p WHERE p.account = c.account
                             AND p.channel = c.channel AND p.kind = $2 AND NOT p.enabled)
           ORDER BY c.channel""",
        account, kind,
    )  # fmt: skip
    written = 0
    for c in contacts:
        row = await conn.fetchval(
            """INSERT INTO notify_outbox (account, kind, period, channel, address, idem_key,
                   subject, body_text, body_html, params)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
               ON CONFLICT DO NOTHING RETURNING id""",
            account, kind, period, c["channel"], c["address"],
            idempotency_key(account, kind, period, c["channel"]),
            text.subject, text.text, text.html, json.dumps(dict(params), ensure_ascii=False),
        )  # fmt: skip
        written += row is not None
    return written


async def claim(
    conn: Connection, limit: int, lease_seconds: float, channel: str | None = None
) -> list[Message]:
    """Takes up to ``limit`` due messages (pending and due, or ``sending`` whose lease ran out:
    their sender died) for this sender: status ``sending`` until the lease ends, one more
    attempt counted. Concurrent senders skip each other's rows (SKIP LOCKED)."""
    rows = await conn.fetch(
        f"""WITH due AS (
                SELECT id FROM notify_outbox
                WHERE ((status = 'pending' AND next_at <= now())
                       OR (status = 'sending' AND lease_until < now()))
                  AND ($3::text IS NULL OR channel = $3)
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            UPDATE notify_outbox o
            SET status = 'sending', attempts = o.attempts + 1,
                lease_until = now() + make_interval(secs => $2)
            FROM due WHERE o.id = due.id
            RETURNING {", ".join("o." + c.strip() for c in _COLUMNS.split(","))}""",
        limit, float(lease_seconds), channel,
    )  # fmt: skip
    return sorted((_message(r) for r in rows), key=lambda m: m.id)


async def mark_sent(conn: Connection, message_id: int) -> None:
    await conn.execute(
        """UPDATE notify_outbox SET status = 'sent', sent_at = now(), lease_until = NULL,
               last_error = NULL
           WHERE id = $1 AND status = 'sending'""",
        message_id,
    )


async def mark_failed(
    conn: Connection, message_id: int, error: str, retry_at: datetime | None
) -> None:
    """A failed attempt: tried again at ``retry_at``, or dead-lettered when it is None."""
    await conn.execute(
        """UPDATE notify_outbox
           SET status = CASE WHEN $3::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
               next_at = coalesce($3::timestamptz, next_at), lease_until = NULL, last_error = $2
           WHERE id = $1 AND status = 'sending'""",
        message_id, error[:2000], retry_at,
    )  # fmt: skip


async def release(conn: Connection, message_ids: list[int]) -> None:
    """Gives back claimed messages that were not tried (a sender stopping): the attempt is
    not counted."""
    await conn.execute(
        """UPDATE notify_outbox SET status = 'pending', attempts = attempts - 1,
               lease_until = NULL
           WHERE id = ANY($1::bigint[]) AND status = 'sending'""",
        message_ids,
    )


async def messages(
    conn: Connection, status: str | None = None, account: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """What was sent, failed and why, newest first (for operators)."""
    rows = await conn.fetch(
        """SELECT id, account, kind, period, channel, address, status, attempts, last_error,
                  created_at, sent_at, next_at
           FROM notify_outbox
           WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR account = $2)
           ORDER BY id DESC LIMIT $3""",
        status, account, limit,
    )  # fmt: skip
    return [dict(r) for r in rows]


async def meters_without_reading(
    conn: Connection, start: datetime, end: datetime
) -> list[tuple[str, str, str]]:
    """(account, service, meter external id) of meters bound to a premise with an account
    and without any reading in [start, end)."""
    rows = await conn.fetch(
        """SELECT p.account, m.service, m.external_id FROM meters m
           JOIN premises p ON p.id = m.premise_id
           WHERE p.account IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id
                             AND r.ts >= $1 AND r.ts < $2)
           ORDER BY p.account, m.service, m.external_id""",
        start,
        end,
    )
    return [(r["account"], r["service"], r["external_id"]) for r in rows]
