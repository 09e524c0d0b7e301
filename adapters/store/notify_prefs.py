"""SQL of residents' notification contacts and choices (issue 21): addresses, confirmation,
opt-in/opt-out per kind × channel, bounces and undeliverable addresses.
Tables: migrations 14 and 17 (adapters.store.notify_schema, notify_prefs_schema)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.store.connections import Connection
from core.notify.kinds import check_channel, check_resident_kind


@dataclass(frozen=True, slots=True)
class Contact:
    channel: str
    address: str
    confirmed: bool
    undeliverable_reason: str | None  # set: a bounce; nothing goes there until it changes


async def set_contact(
    conn: Connection, account: str, channel: str, address: str, *, confirmed: bool
) -> bool:
    """The resident's address on a channel. A new or changed address is unconfirmed (unless
    ``confirmed``) and deliverable again; the same address keeps its state (``confirmed``
    only adds). Returns True when the address is new or changed."""
    old = await conn.fetchval(
        "SELECT address FROM notify_contacts WHERE account = $1 AND channel = $2",
        account, check_channel(channel),
    )  # fmt: skip
    if old == address:
        if confirmed:
            await confirm_contact(conn, account, channel, address)
        return False
    await conn.execute(
        """INSERT INTO notify_contacts (account, channel, address, confirmed, confirmed_at)
           VALUES ($1, $2, $3, $4, CASE WHEN $4 THEN now() END)
           ON CONFLICT (account, channel) DO UPDATE
           SET address = EXCLUDED.address, confirmed = EXCLUDED.confirmed,
               confirmed_at = EXCLUDED.confirmed_at, undeliverable_at = NULL,
               undeliverable_reason = NULL, updated_at = now()""",
        account, channel, address, confirmed,
    )  # fmt: skip
    return True


async def delete_contact(conn: Connection, account: str, channel: str) -> None:
    await conn.execute(
        "DELETE FROM notify_contacts WHERE account = $1 AND channel = $2", account, channel
    )


async def confirm_contact(conn: Connection, account: str, channel: str, address: str) -> bool:
    """Confirms the address if it is still the account's address on the channel."""
    done = await conn.fetchval(
        """UPDATE notify_contacts SET confirmed = true, confirmed_at = now(), updated_at = now()
           WHERE account = $1 AND channel = $2 AND address = $3 RETURNING 1""",
        account, channel, address,
    )  # fmt: skip
    return done is not None


async def contacts(conn: Connection, account: str) -> dict[str, Contact]:
    rows = await conn.fetch(
        """SELECT channel, address, confirmed, undeliverable_reason FROM notify_contacts
           WHERE account = $1""",
        account,
    )
    return {r["channel"]: Contact(**dict(r)) for r in rows}


async def set_pref(conn: Connection, account: str, channel: str, kind: str, enabled: bool) -> None:
    """Opt in (``enabled``) or out of one kind on one channel."""
    await conn.execute(
        """INSERT INTO notify_prefs (account, channel, kind, enabled) VALUES ($1, $2, $3, $4)
           ON CONFLICT (account, channel, kind) DO UPDATE
           SET enabled = EXCLUDED.enabled, updated_at = now()""",
        account, check_channel(channel), check_resident_kind(kind), enabled,
    )  # fmt: skip


async def prefs(conn: Connection, account: str) -> dict[tuple[str, str], bool]:
    """(channel, kind) → enabled, for the choices the resident made (others: opted in)."""
    rows = await conn.fetch(
        "SELECT channel, kind, enabled FROM notify_prefs WHERE account = $1", account
    )
    return {(r["channel"], r["kind"]): r["enabled"] for r in rows}


async def record_bounce(
    conn: Connection,
    address: str,
    *,
    source: str,
    permanent: bool,
    status: str,
    reason: str,
    message_id: int | None = None,
) -> int:
    """Keeps a bounce; a permanent one makes the e-mail address undeliverable (every account
    that has it) and dead-letters what still waits for it. Returns the contacts marked."""
    await conn.execute(
        """INSERT INTO notify_bounces (address, message_id, source, permanent, status, reason)
           VALUES (lower($1), $2, $3, $4, $5, $6)""",
        address, message_id, source, permanent, status, reason[:2000],
    )  # fmt: skip
    if not permanent:
        return 0
    if message_id is not None:
        await conn.execute("UPDATE notify_outbox SET bounced = true WHERE id = $1", message_id)
    marked = await conn.fetch(
        """UPDATE notify_contacts SET undeliverable_at = now(), undeliverable_reason = $2
           WHERE channel = 'email' AND lower(address) = lower($1) RETURNING account""",
        address, f"{status} {reason}"[:500],
    )  # fmt: skip
    await conn.execute(
        """UPDATE notify_outbox SET status = 'dead', bounced = true, lease_until = NULL,
               last_error = 'адрес недоставляем (bounce): ' || $2
           WHERE channel = 'email' AND lower(address) = lower($1) AND status = 'pending'""",
        address, f"{status} {reason}"[:500],
    )  # fmt: skip
    return len(marked)


async def bounces(conn: Connection, limit: int = 50) -> list[dict[str, object]]:
    rows = await conn.fetch(
        """SELECT id, address, message_id, source, permanent, status, reason, at
           FROM notify_bounces ORDER BY id DESC LIMIT $1""",
        limit,
    )
    return [dict(r) for r in rows]


async def outbox_id_of(conn: Connection, idem_key: str) -> int | None:
    found = await conn.fetchval("SELECT id FROM notify_outbox WHERE idem_key = $1", idem_key)
    return int(found) if found is not None else None
