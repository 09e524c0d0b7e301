"""The property register and reconciliation tables (migration 13): save an import, read the
latest one, the premises and rates the report compares it with, operators' decisions.

Reads are set-based (one query per table, none per premise); rows are written by COPY.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from adapters.store.db import store_errors
from core.reconcile.bulk import without_gc
from core.reconcile.model import AccountPremise, HouseRates, RegisterRow

_COLUMNS = (
    "import_id", "line", "address", "premise", "cadastral", "fias", "area", "residential",
    "owners", "residents",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImportInfo:
    id: int
    file: str
    mapping: str
    imported_at: datetime
    rows: int
    problems: int


async def save_import(
    conn: asyncpg.Connection,
    *,
    file: str,
    mapping: str,
    rows: list[RegisterRow],
    problems: list[tuple[int, str]],
) -> int:
    """Stores one imported register (its rows and bad rows) in one transaction; its id."""
    async with store_errors("property import"), conn.transaction():
        import_id: int = await conn.fetchval(
            "INSERT INTO property_imports (file, mapping, rows, problems)"
            " VALUES ($1, $2, $3, $4) RETURNING id",
            file, mapping, len(rows), len(problems),
        )  # fmt: skip
        await conn.copy_records_to_table(
            "property_rows",
            columns=_COLUMNS,
            records=[
                (import_id, r.line, r.address, r.premise, r.cadastral, r.fias, r.area,
                 r.residential, r.owners, r.residents)
                for r in rows
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "property_problems",
            columns=("import_id", "line", "detail"),
            records=[(import_id, line, detail) for line, detail in problems],
        )
    return import_id


async def latest_import(conn: asyncpg.Connection) -> ImportInfo | None:
    async with store_errors("property register"):
        rec = await conn.fetchrow(
            "SELECT id, file, mapping, imported_at, rows, problems FROM property_imports"
            " ORDER BY id DESC LIMIT 1"
        )
    return ImportInfo(*rec) if rec is not None else None


async def register_rows(conn: asyncpg.Connection, import_id: int, file: str) -> list[RegisterRow]:
    async with store_errors("property register"):
        recs = await conn.fetch(
            "SELECT line, address, premise, cadastral, fias, area, residential, owners,"
            " residents FROM property_rows WHERE import_id = $1 ORDER BY line",
            import_id,
        )
    return _register_rows(recs, file)


@without_gc  # a million rows: the collector's passes over them cost more than the reading
def _register_rows(recs: list[asyncpg.Record], file: str) -> list[RegisterRow]:
    return [_register_row(rec, file) for rec in recs]


def _register_row(rec: asyncpg.Record, file: str) -> RegisterRow:
    line, address, premise, cadastral, fias, area, residential, owners, residents = rec
    return RegisterRow(
        line, address, premise, cadastral, fias, area, residential, owners, residents, file
    )


async def import_problems(conn: asyncpg.Connection, import_id: int) -> list[str]:
    async with store_errors("property register"):
        recs = await conn.fetch(
            "SELECT detail FROM property_problems WHERE import_id = $1 ORDER BY line", import_id
        )
    return [r[0] for r in recs]


_PREMISES = """
SELECT p.id, p.house_id, coalesce(h.address, ''), p.account, p.area, p.residential,
       p.residents, p.owners, coalesce(m.services, '{}')
FROM premises p JOIN houses h ON h.id = p.house_id
LEFT JOIN (SELECT premise_id, array_agg(DISTINCT service) AS services FROM meters
           WHERE premise_id IS NOT NULL GROUP BY premise_id) m ON m.premise_id = p.id
"""


async def account_premises(conn: asyncpg.Connection) -> list[AccountPremise]:
    """Every premise with its house's address and the services it has a meter for."""
    async with store_errors("premises"):
        recs = await conn.fetch(_PREMISES)
    return _account_premises(recs)


@without_gc
def _account_premises(recs: list[asyncpg.Record]) -> list[AccountPremise]:
    none: frozenset[str] = frozenset()
    return [
        AccountPremise(pid, hid, addr, acc, area, res, n, own, frozenset(meters) or none)
        for pid, hid, addr, acc, area, res, n, own, meters in recs
    ]


_RATES = """
SELECT DISTINCT ON (service) service, value FROM {table}
WHERE valid_from <= $1 ORDER BY service, valid_from DESC
"""
# Houses with unmetered consumption: the latest billed month left an excess over the
# individual volumes of a service, or VEE's daily house balance (house meter vs the sum of its
# premises, every premise covered) shows the house meter above its premises by more than
# $1 on at least $2 days and on most covered days of its last $3 days: it persists.
_UNMETERED = """
SELECT house_id FROM house_balances
WHERE period = (SELECT max(period) FROM house_balances) AND excess_volume > 0
UNION
SELECT house_id FROM (
    SELECT house_id, service, count(*) FILTER (WHERE ratio > $1) AS over, count(ratio) AS covered
    FROM vee_house_balance
    WHERE day > (SELECT max(day) FROM vee_house_balance) - $3::int
    GROUP BY house_id, service
) b WHERE over >= $2 AND over * 2 > covered
"""
UNMETERED_RATIO = 0.05
"""A day's house meter above its premises by more than this share counts as unmetered."""
UNMETERED_DAYS = (7, 30)
"""(days over the ratio at least, out of the last days of balance data)."""


async def house_rates(conn: asyncpg.Connection, on: date) -> dict[str, HouseRates]:
    """The rates valid on ``on`` and each house's S_ои and unmetered-consumption flag."""
    async with store_errors("rates"):
        rates: list[dict[str, Decimal]] = []
        for table in ("tariffs", "normatives", "soi_normatives"):
            recs = await conn.fetch(_RATES.format(table=table), on)
            rates.append({r[0]: r[1] for r in recs})
        houses = await conn.fetch("SELECT id, common_area FROM houses")
        least, window = UNMETERED_DAYS
        unmetered = {r[0] for r in await conn.fetch(_UNMETERED, UNMETERED_RATIO, least, window)}
    tariffs, normatives, soi = rates
    return {hid: HouseRates(ca, tariffs, normatives, soi, hid in unmetered) for hid, ca in houses}


async def record_decision(
    conn: asyncpg.Connection,
    *,
    key: str,
    decision: str,
    decided_by: str,
    kind: str | None = None,
    premise_id: str | None = None,
    note: str = "",
) -> int:
    async with store_errors("reconcile decision"):
        decision_id: int = await conn.fetchval(
            "INSERT INTO reconcile_decisions (key, decision, kind, premise_id, note, decided_by)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            key, decision, kind, premise_id, note, decided_by,
        )  # fmt: skip
    return decision_id


_DECISIONS = """
SELECT DISTINCT ON (key, coalesce(kind, '')) key, decision, kind, premise_id
FROM reconcile_decisions ORDER BY key, coalesce(kind, ''), id DESC
"""


async def decisions(conn: asyncpg.Connection) -> tuple[dict[str, str], frozenset[str]]:
    """(confirmed matches: row key -> premise id, checked findings: "kind|key"), the latest
    decision per key (and kind) counting; an ``undo`` cancels what came before it."""
    async with store_errors("reconcile decisions"):
        recs = await conn.fetch(_DECISIONS)
    confirmed: dict[str, str] = {}
    checked: set[str] = set()
    for key, decision, kind, premise_id in recs:
        if decision in ("confirm", "open"):  # an opened account is that row's premise
            confirmed[key] = premise_id
        elif decision == "checked":
            checked.add(f"{kind}|{key}")
    return confirmed, frozenset(checked)


async def premise_exists(conn: asyncpg.Connection, premise_id: str) -> bool:
    async with store_errors("find premise"):
        return bool(await conn.fetchval("SELECT 1 FROM premises WHERE id = $1", premise_id))


async def register_row(
    conn: asyncpg.Connection, import_id: int, line: int, file: str
) -> RegisterRow | None:
    async with store_errors("property register"):
        rec = await conn.fetchrow(
            "SELECT line, address, premise, cadastral, fias, area, residential, owners,"
            " residents FROM property_rows WHERE import_id = $1 AND line = $2",
            import_id, line,
        )  # fmt: skip
    return _register_row(rec, file) if rec is not None else None


@dataclass(frozen=True, slots=True)
class Opened:
    premise_id: str
    account: str
    created: bool  # False: this row had opened it before (nothing written now)
    decision_id: int


async def opened(conn: asyncpg.Connection, key: str) -> Opened | None:
    """What the register row ``key`` opened, if it did."""
    async with store_errors("open account"):
        rec = await conn.fetchrow(
            "SELECT premise_id, account, decision_id FROM reconcile_opened WHERE key = $1", key
        )
    return Opened(rec[0], rec[1], False, rec[2]) if rec is not None else None


class PremiseTaken(Exception):
    """The premise id or the account number is another premise's already."""


async def open_account(
    conn: asyncpg.Connection,
    *,
    key: str,
    premise: AccountPremise,
    import_id: int,
    line: int,
    decided_by: str,
    note: str = "",
) -> Opened:
    """Adds ``premise`` (with its account) to the reference tables for the register row
    ``key``, records the decision ``open``; once per row key: again, it answers what was
    opened then and writes nothing. Raises :class:`PremiseTaken` when the id or the account
    belongs to another premise."""
    async with store_errors("open account"), conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('reconcile-open:' || $1))", key)
        found = await opened(conn, key)
        if found is not None:
            return found
        clash = await conn.fetchval(
            "SELECT id FROM premises WHERE id = $1 OR account = $2 LIMIT 1",
            premise.premise_id, premise.account,
        )  # fmt: skip
        if clash is not None:
            raise PremiseTaken(
                f"помещение {clash!r} уже имеет этот код или лицевой счёт {premise.account!r}"
            )
        await conn.execute(
            "INSERT INTO premises (id, house_id, account, area, residential, residents, owners)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            premise.premise_id, premise.house_id, premise.account, premise.area,
            premise.residential, premise.residents, premise.owners,
        )  # fmt: skip
        decision_id: int = await conn.fetchval(
            "INSERT INTO reconcile_decisions (key, decision, kind, premise_id, note, decided_by)"
            " VALUES ($1, 'open', 'unbilled', $2, $3, $4) RETURNING id",
            key, premise.premise_id, note, decided_by,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO reconcile_opened (key, premise_id, account, import_id, line,"
            " decision_id) VALUES ($1, $2, $3, $4, $5, $6)",
            key, premise.premise_id, premise.account, import_id, line, decision_id,
        )  # fmt: skip
    return Opened(premise.premise_id, str(premise.account), True, decision_id)


async def decision_log(conn: asyncpg.Connection, limit: int = 50) -> list[asyncpg.Record]:
    """The latest decisions, newest first (who, when, what)."""
    async with store_errors("reconcile decisions"):
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT id, key, decision, kind, premise_id, note, decided_by, decided_at"
            " FROM reconcile_decisions ORDER BY id DESC LIMIT $1",
            limit,
        )
    return rows


_STATE = """
SELECT (SELECT max(id) FROM property_imports), (SELECT max(id) FROM reconcile_decisions),
       (SELECT count(*) FROM premises), (SELECT max(period) FROM house_balances),
       (SELECT max(run_id) FROM vee_house_balance)
"""


async def report_state(conn: asyncpg.Connection) -> tuple[object, ...]:
    """What the report depends on, cheaply: the latest import, decision, the premises count,
    the latest billed balance and VEE run. Equal states: a cached report still holds (bar
    edits in place of the billing data, which a cache's age bounds)."""
    async with store_errors("reconcile state"):
        rec = await conn.fetchrow(_STATE)
    return tuple(rec)
