"""SQL of the notification outbox (issue 21): enqueueing once per (account, kind, period,
channel), the sender's claims, marks and deferrals, and the operators' log of it.
Tables: migrations 14 and 17; contacts and choices are adapters.store.notify_prefs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.store.connections import Connection
from core.notify.kinds import check_channel
from core.notify.signing import idempotency_key
from core.notify.templates import Rendered, render


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
    lease: int = 0  # this claim's token: the marks of a claim that lost its lease do nothing


_COLUMNS = (
    "id, account, kind, period, channel, address, idem_key, subject, body_text, body_html,"
    " params, attempts, lease"
)


def _message(r: Any) -> Message:
    return Message(**{**dict(r), "params": json.loads(r["params"])})


async def enqueue(
    conn: Connection, account: str, kind: str, period: str, params: Mapping[str, Any]
) -> int:
    """Writes the message of (account, kind, period) for each confirmed channel the resident
    has not opted out of; an event already enqueued is not written again. Returns how many
    rows were written. Call it in the transaction of the event it tells about."""
    text = render(kind, params)  # refuses params it cannot render, before anything is written
    contacts = await conn.fetch(
        """SELECT c.channel, c.address FROM notify_contacts c
           WHERE c.account = $1 AND c.confirmed AND c.undeliverable_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM notify_prefs p WHERE p.account = c.account
                             AND p.channel = c.channel AND p.kind = $2 AND NOT p.enabled)
           ORDER BY c.channel""",
        account, kind,
    )  # fmt: skip
    written = 0
    for c in contacts:
        written += await _insert(conn, account, kind, period, c["channel"], c["address"],
                                 params, text)  # fmt: skip
    return written


async def enqueue_to(
    conn: Connection,
    account: str,
    kind: str,
    period: str,
    channel: str,
    address: str,
    params: Mapping[str, Any],
) -> int:
    """Writes one message to this address whatever the contacts say: the e-mail confirmation
    (to an address not confirmed yet) and the operators' alerts. Once per (account, kind,
    period, channel); returns 1 when written."""
    return await _insert(
        conn, account, kind, period, check_channel(channel), address, params,
        render(kind, params),
    )  # fmt: skip


async def _insert(
    conn: Connection,
    account: str,
    kind: str,
    period: str,
    channel: str,
    address: str,
    params: Mapping[str, Any],
    text: Rendered,
) -> int:
    row = await conn.fetchval(
        """INSERT INTO notify_outbox (account, kind, period, channel, address, idem_key,
               subject, body_text, body_html, params)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
           ON CONFLICT DO NOTHING RETURNING id""",
        account, kind, period, channel, address,
        idempotency_key(account, kind, period, channel),
        text.subject, text.text, text.html, json.dumps(dict(params), ensure_ascii=False),
    )  # fmt: skip
    return int(row is not None)


async def recent(
    conn: Connection, kind: str, account: str, address: str, seconds: float
) -> tuple[int, int, float]:
    """Messages of ``kind`` enqueued in the last ``seconds``: (to this account, to this address
    on any account, seconds until the oldest of them leaves the window) — the rate limit of
    the e-mail confirmations."""
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE account = $2) AS account,
                  count(*) FILTER (WHERE lower(address) = lower($3)) AS address,
                  extract(epoch FROM min(created_at) FILTER (
                      WHERE account = $2 OR lower(address) = lower($3))
                      + make_interval(secs => $4) - now()) AS wait
           FROM notify_outbox
           WHERE kind = $1 AND created_at > now() - make_interval(secs => $4)""",
        kind, account, address, float(seconds),
    )  # fmt: skip
    assert row is not None
    return int(row["account"]), int(row["address"]), max(0.0, float(row["wait"] or 0))


async def claim(
    conn: Connection, limit: int, lease_seconds: float, channel: str | None = None
) -> list[Message]:
    """Takes up to ``limit`` due messages (pending and due, or ``sending`` whose lease ran out:
    their sender died or was too slow) for this sender: status ``sending`` until the lease
    ends, one more attempt counted, a new ``lease`` token each. Concurrent senders skip each
    other's rows (SKIP LOCKED). Every later mark names the token: once another sender has
    reclaimed a row, the marks of the one that lost it change nothing."""
    rows = await conn.fetch(
        f"""WITH due AS (
                SELECT id FROM notify_outbox
                WHERE ((status = 'pending' AND next_at <= now())
                       OR (status = 'sending' AND lease_until < now()))
                  AND ($3::text IS NULL OR channel = $3)
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            UPDATE notify_outbox o
            SET status = 'sending', attempts = o.attempts + 1,
                lease_until = now() + make_interval(secs => $2),
                lease = nextval('notify_outbox_lease')
            FROM due WHERE o.id = due.id
            RETURNING {", ".join("o." + c.strip() for c in _COLUMNS.split(","))}""",
        limit, float(lease_seconds), channel,
    )  # fmt: skip
    return sorted((_message(r) for r in rows), key=lambda m: m.id)


_HELD = "id = $1 AND status = 'sending' AND lease = $2"  # still this claim's


async def renew(conn: Connection, m: Message, lease_seconds: float) -> bool:
    """Extends the lease of a claimed message just before it is sent (it may have waited its
    turn for long). False when the lease was lost: another sender has it, do not send."""
    row = await conn.fetchval(
        f"""UPDATE notify_outbox SET lease_until = now() + make_interval(secs => $3)
            WHERE {_HELD} RETURNING id""",
        m.id, m.lease, float(lease_seconds),
    )  # fmt: skip
    return row is not None


async def mark_sent(conn: Connection, m: Message) -> bool:
    """False when the claim had lost the message (nothing changed)."""
    row = await conn.fetchval(
        f"""UPDATE notify_outbox SET status = 'sent', sent_at = now(), lease_until = NULL,
                last_error = NULL
            WHERE {_HELD} RETURNING id""",
        m.id, m.lease,
    )  # fmt: skip
    return row is not None


async def mark_failed(conn: Connection, m: Message, error: str, retry_at: datetime | None) -> bool:
    """A failed attempt: tried again at ``retry_at``, or dead-lettered when it is None. False
    when the claim had lost the message (nothing changed)."""
    row = await conn.fetchval(
        f"""UPDATE notify_outbox
            SET status = CASE WHEN $4::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
                next_at = coalesce($4::timestamptz, next_at), lease_until = NULL,
                last_error = $3
            WHERE {_HELD} RETURNING id""",
        m.id, m.lease, error[:2000], retry_at,
    )  # fmt: skip
    return row is not None


async def release(conn: Connection, claimed: list[Message]) -> None:
    """Gives back claimed messages that were not tried (a sender stopping): the attempt is
    not counted."""
    await conn.execute(
        """UPDATE notify_outbox o SET status = 'pending', attempts = o.attempts - 1,
               lease_until = NULL
           FROM unnest($1::bigint[], $2::bigint[]) AS c(id, lease)
           WHERE o.id = c.id AND o.status = 'sending' AND o.lease = c.lease""",
        [m.id for m in claimed], [m.lease for m in claimed],
    )  # fmt: skip


async def defer(conn: Connection, m: Message, until: datetime) -> None:
    """Gives a claimed message back to be sent at ``until`` (the domain's rate limit): the
    attempt is not counted."""
    await conn.execute(
        f"""UPDATE notify_outbox SET status = 'pending', attempts = attempts - 1,
                lease_until = NULL, next_at = $3
            WHERE {_HELD}""",
        m.id, m.lease, until,
    )  # fmt: skip


# what an operator filters by: a status of the log → its condition
STATES: dict[str, str] = {
    "sent": "status = 'sent'",
    "failed": "status = 'pending' AND last_error IS NOT NULL",  # failed, to be tried again
    "dead": "status = 'dead'",
    "bounced": "bounced",
    "waiting": "status IN ('pending', 'sending') AND last_error IS NULL",
}


async def messages(
    conn: Connection,
    status: str | None = None,
    account: str | None = None,
    limit: int = 100,
    *,
    kind: str | None = None,
    channel: str | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """What was sent, failed and why, newest first (for operators). ``status`` is a key of
    STATES or a stored status (pending, sending)."""
    rows = await conn.fetch(
        f"""SELECT id, account, kind, period, channel, address, status, attempts, last_error,
                  bounced, created_at, sent_at, next_at, subject
           FROM notify_outbox WHERE {_where(status)}
           ORDER BY id DESC LIMIT $4 OFFSET $5""",
        account, kind, channel, limit, offset,
    )  # fmt: skip
    return [dict(r) for r in rows]


async def count_messages(
    conn: Connection,
    status: str | None = None,
    account: str | None = None,
    *,
    kind: str | None = None,
    channel: str | None = None,
) -> int:
    found = await conn.fetchval(
        f"SELECT count(*) FROM notify_outbox WHERE {_where(status)}", account, kind, channel
    )
    return int(found)


def _where(status: str | None) -> str:
    if status is None:
        state = "true"
    elif status in STATES:
        state = STATES[status]
    elif status in ("pending", "sending"):
        state = f"status = '{status}'"
    else:
        raise ValueError(f"unknown status {status!r}; known: {', '.join(STATES)}")
    return (
        f"({state}) AND ($1::text IS NULL OR account = $1)"
        " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR channel = $3)"
    )


async def counts_by_state(conn: Connection) -> dict[str, int]:
    row = await conn.fetchrow(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c}) AS {k}" for k, c in STATES.items())
        + " FROM notify_outbox"
    )  # fmt: skip
    return dict(row) if row is not None else {}
