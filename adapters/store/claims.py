"""All SQL of the claims workflow: claims, the events of their stages and the letters kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from adapters.store.db import store_errors
from core.errors import StoreError
from core.ledger.claims import CLOSED, ClaimError, StageEvent

_KEY = "coalesce(p.account, p.id)"


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    event: StageEvent
    document: str | None
    actor: str
    recorded_at: datetime
    letter: str | None  # the name of the kept letter, if one was generated


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    id: int
    account: str
    stage: str  # the current stage, or ``closed``
    opened_on: date
    stage_on: date
    debt: int  # kopecks, at the current stage
    penalty: int
    address: str | None
    house: str | None
    close_reason: str | None = None
    events: list[EventRecord] = field(default_factory=list)

    @property
    def history(self) -> list[StageEvent]:
        return [e.event for e in self.events]


def _money(kopecks: int) -> Decimal:
    return Decimal(kopecks).scaleb(-2)


def _kopecks(value: Decimal) -> int:
    return int(value * 100)


_SELECT = f"""
SELECT c.*, h.address, p.house_id
FROM claims c
LEFT JOIN LATERAL (
    SELECT p.house_id FROM premises p WHERE {_KEY} = c.account ORDER BY p.id LIMIT 1
) p ON true
LEFT JOIN houses h ON h.id = p.house_id
"""


def _claim(r: asyncpg.Record) -> ClaimRecord:
    closed = r["closed_on"] is not None
    return ClaimRecord(
        id=r["id"],
        account=r["account"],
        stage=CLOSED if closed else r["stage"],
        opened_on=r["opened_on"],
        stage_on=r["closed_on"] if closed else r["stage_on"],
        debt=_kopecks(r["debt"]),
        penalty=_kopecks(r["penalty"]),
        address=r["address"],
        house=r["house_id"],
        close_reason=r["close_reason"],
    )


async def _insert_event(
    conn: asyncpg.Connection, claim_id: int, e: StageEvent, actor: str, document: str | None
) -> int:
    event_id: int = await conn.fetchval(
        "INSERT INTO claim_events (claim_id, stage, day, debt, penalty, note, reason, document,"
        " actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        claim_id,
        e.stage,
        date.fromordinal(e.day),
        _money(e.debt),
        _money(e.penalty),
        e.note,
        e.reason,
        document,
        actor,
    )
    return event_id


async def insert_claim(
    conn: asyncpg.Connection, account: str, e: StageEvent, actor: str, document: str | None
) -> int:
    """A new claim at its first stage; one open claim per account (a second is a conflict)."""
    day = date.fromordinal(e.day)
    try:
        async with store_errors("open claim"), conn.transaction():
            claim_id: int = await conn.fetchval(
                "INSERT INTO claims (account, stage, opened_on, stage_on, debt, penalty)"
                " VALUES ($1, $2, $3, $3, $4, $5) RETURNING id",
                account,
                e.stage,
                day,
                _money(e.debt),
                _money(e.penalty),
            )
            await _insert_event(conn, claim_id, e, actor, document)
    except StoreError as exc:
        if not isinstance(exc.__cause__, asyncpg.UniqueViolationError):
            raise
        async with store_errors("open claim"):
            other = await conn.fetchval(
                "SELECT id FROM claims WHERE account = $1 AND closed_on IS NULL", account
            )
        raise ClaimError(
            f"по счёту {account} уже открыта претензия № {other}", "conflict"
        ) from None
    return claim_id


async def add_event(
    conn: asyncpg.Connection,
    claim_id: int,
    after: str,
    e: StageEvent,
    actor: str,
    document: str | None,
) -> int:
    """Records ``e`` on a claim whose current stage is still ``after`` (else a conflict: someone
    moved it meanwhile); returns the event's id."""
    day = date.fromordinal(e.day)
    async with store_errors("record claim stage"), conn.transaction():
        if e.stage == CLOSED:
            sql = (
                "UPDATE claims SET closed_on = $3, close_reason = $4, debt = $5, penalty = $6"
                " WHERE id = $1 AND stage = $2 AND closed_on IS NULL RETURNING id"
            )
            args: tuple[object, ...] = (e.reason,)
        else:
            sql = (
                "UPDATE claims SET stage = $4, stage_on = $3, debt = $5, penalty = $6"
                " WHERE id = $1 AND stage = $2 AND closed_on IS NULL RETURNING id"
            )
            args = (e.stage,)
        done = await conn.fetchval(
            sql, claim_id, after, day, *args, _money(e.debt), _money(e.penalty)
        )
        if done is None:
            raise ClaimError(f"претензия № {claim_id} изменилась: обновите и повторите", "conflict")
        return await _insert_event(conn, claim_id, e, actor, document)


async def get_claim(conn: asyncpg.Connection, claim_id: int) -> ClaimRecord | None:
    """The claim with its events, oldest first."""
    async with store_errors("read claim"):
        row = await conn.fetchrow(_SELECT + " WHERE c.id = $1", claim_id)
        if row is None:
            return None
        events = await conn.fetch(
            "SELECT e.*, d.name AS letter FROM claim_events e"
            " LEFT JOIN claim_documents d ON d.event_id = e.id"
            " WHERE e.claim_id = $1 ORDER BY e.day, e.id",
            claim_id,
        )
    claim = _claim(row)
    for r in events:
        event = StageEvent(
            r["stage"],
            r["day"].toordinal(),
            _kopecks(r["debt"]),
            _kopecks(r["penalty"]),
            r["note"],
            r["reason"],
        )
        claim.events.append(
            EventRecord(r["id"], event, r["document"], r["actor"], r["recorded_at"], r["letter"])
        )
    return claim


async def list_claims(
    conn: asyncpg.Connection,
    *,
    stage: str | None = None,
    house: str | None = None,
    closed: bool = False,
    limit: int = 1000,
    offset: int = 0,
) -> list[ClaimRecord]:
    """Open claims (or closed ones), of a stage and a house if given, the oldest stage first:
    ``limit`` of them from ``offset`` on (see ``count_claims`` for how many there are)."""
    async with store_errors("list claims"):
        rows = await conn.fetch(
            _SELECT + " WHERE (c.closed_on IS NOT NULL) = $1"
            " AND ($2::text IS NULL OR c.stage = $2) AND ($3::text IS NULL OR p.house_id = $3)"
            " ORDER BY coalesce(c.closed_on, c.stage_on), c.id LIMIT $4 OFFSET $5",
            closed,
            stage,
            house,
            limit,
            offset,
        )
    return [_claim(r) for r in rows]


async def count_claims(
    conn: asyncpg.Connection, *, house: str | None = None, closed: bool = False
) -> dict[str, int]:
    """How many open claims (``closed``: closed ones, by the stage they were closed at), of a
    house if given, there are at each stage; only the stages that have some."""
    join, where = "", ""
    args: list[object] = [closed]
    if house is not None:  # the claim's house is its account's first premise's
        join = (
            f" JOIN LATERAL (SELECT p.house_id FROM premises p WHERE {_KEY} = c.account"
            " ORDER BY p.id LIMIT 1) p ON true"
        )
        where, args = " AND p.house_id = $2", [closed, house]
    async with store_errors("count claims"):
        rows = await conn.fetch(
            f"SELECT c.stage, count(*) AS n FROM claims c{join}"
            f" WHERE (c.closed_on IS NOT NULL) = $1{where} GROUP BY c.stage",
            *args,
        )
    return {r["stage"]: r["n"] for r in rows}


async def open_claim_accounts(conn: asyncpg.Connection) -> set[str]:
    async with store_errors("list open claims"):
        rows = await conn.fetch("SELECT account FROM claims WHERE closed_on IS NULL")
    return {r["account"] for r in rows}


async def keep_letter(
    conn: asyncpg.Connection, event_id: int, name: str, pdf: bytes
) -> tuple[str, bytes]:
    """Keeps the event's letter unless one is kept already (a kept letter is what was sent:
    never replaced); returns the kept one — this, or the one kept before."""
    async with store_errors("keep claim letter"):
        done = await conn.fetchval(
            "INSERT INTO claim_documents (event_id, name, sha256, pdf) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            event_id,
            name,
            hashlib.sha256(pdf).hexdigest(),
            pdf,
        )
    if done is not None:
        return name, pdf
    kept = await kept_letter(conn, event_id)
    if kept is None:  # cannot be: letters are not deleted
        raise StoreError(f"claim letter of event {event_id} neither kept nor found")
    return kept


async def kept_letter(conn: asyncpg.Connection, event_id: int) -> tuple[str, bytes] | None:
    async with store_errors("read claim letter"):
        row = await conn.fetchrow(
            "SELECT name, pdf FROM claim_documents WHERE event_id = $1", event_id
        )
    return None if row is None else (row["name"], bytes(row["pdf"]))
