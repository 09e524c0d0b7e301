"""``uchet load``: upserts parsed reference data in one transaction, set-based (no row loops)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from adapters.billing.reference import RATE_TABLES, ReferenceData
from adapters.store.db import store_errors
from core.errors import BillingError


@dataclass(frozen=True, slots=True)
class Counts:
    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True)
class LoadReport:
    counts: dict[str, Counts]
    overrides: int


def _counts(rows: list[asyncpg.Record], total: int) -> Counts:
    created = sum(1 for r in rows if r["created"])
    return Counts(created, len(rows) - created, total - len(rows))


# ``xmax = 0`` tells an inserted row from an updated one; the WHERE skips rows that would not
# change, so "unchanged" is what a repeated load reports.
_HOUSES = """
INSERT INTO houses AS t (id, address, common_area, soi_excess)
SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[])
ON CONFLICT (id) DO UPDATE SET address = excluded.address, common_area = excluded.common_area,
    soi_excess = excluded.soi_excess
WHERE (t.address, t.common_area, t.soi_excess)
    IS DISTINCT FROM (excluded.address, excluded.common_area, excluded.soi_excess)
RETURNING (xmax = 0) AS created
"""

_PREMISES = """
INSERT INTO premises AS t (id, house_id, account, area, residential, residents, owners,
                           meter_possible)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::boolean[],
                     $6::integer[], $7::integer[], $8::boolean[])
ON CONFLICT (id) DO UPDATE SET house_id = excluded.house_id, account = excluded.account,
    area = excluded.area, residential = excluded.residential, residents = excluded.residents,
    owners = excluded.owners, meter_possible = excluded.meter_possible
WHERE (t.house_id, t.account, t.area, t.residential, t.residents, t.owners, t.meter_possible)
    IS DISTINCT FROM (excluded.house_id, excluded.account, excluded.area, excluded.residential,
                      excluded.residents, excluded.owners, excluded.meter_possible)
RETURNING (xmax = 0) AS created
"""

_METERS = """
INSERT INTO meters AS t (source, external_id, channel, service, unit, premise_id, house_id,
                         installed, capacity_digits)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::date[], $9::smallint[])
ON CONFLICT (source, external_id, channel) DO UPDATE SET premise_id = excluded.premise_id,
    house_id = excluded.house_id, installed = excluded.installed,
    capacity_digits = excluded.capacity_digits
WHERE (t.premise_id, t.house_id, t.installed, t.capacity_digits)
    IS DISTINCT FROM (excluded.premise_id, excluded.house_id, excluded.installed,
                      excluded.capacity_digits)
RETURNING (xmax = 0) AS created
"""

_RATE = """
INSERT INTO {table} AS t (service, valid_from, value)
SELECT * FROM unnest($1::text[], $2::date[], $3::numeric[])
ON CONFLICT (service, valid_from) DO UPDATE SET value = excluded.value
WHERE t.value IS DISTINCT FROM excluded.value
RETURNING (xmax = 0) AS created
"""


async def _check_houses(conn: asyncpg.Connection, data: ReferenceData) -> None:
    in_file = {h.id for h in data.houses}
    named = sorted({p.house for p in data.premises} - in_file)
    if not named:
        return
    rows = await conn.fetch("SELECT id FROM houses WHERE id = ANY($1::text[])", named)
    missing = sorted(set(named) - {r["id"] for r in rows})
    if missing:
        premises = [p.id for p in data.premises if p.house in set(missing)]
        raise BillingError(
            f"premise {premises[0]}: unknown house {missing[0]!r} (not in the file nor in the "
            f"database; {len(premises)} premise(s) name unknown houses: "
            f"{', '.join(missing[:10])})"
        )


async def _check_accounts(conn: asyncpg.Connection, data: ReferenceData) -> None:
    pairs = [(p.account, p.id) for p in data.premises if p.account is not None]
    if not pairs:
        return
    rows = await conn.fetch(
        "SELECT p.account, p.id, k.premise FROM premises p"
        " JOIN unnest($1::text[], $2::text[]) AS k(account, premise) USING (account)"
        " WHERE p.id <> k.premise AND p.id <> ALL($2::text[])",
        [a for a, _ in pairs],
        [i for _, i in pairs],
    )
    if rows:
        r = rows[0]
        raise BillingError(
            f"premise {r['premise']}: account {r['account']} already belongs to premise {r['id']}"
        )


async def load_reference(conn: asyncpg.Connection, data: ReferenceData) -> LoadReport:
    """Upserts everything in ``data`` in one transaction (all or nothing)."""
    counts: dict[str, Counts] = {}
    async with store_errors("load reference data"), conn.transaction():
        await _check_houses(conn, data)
        await _check_accounts(conn, data)
        h = data.houses
        rows = await conn.fetch(
            _HOUSES,
            [x.id for x in h],
            [x.address for x in h],
            [x.common_area for x in h],
            [x.soi_excess for x in h],
        )
        counts["houses"] = _counts(rows, len(h))
        p = data.premises
        rows = await conn.fetch(
            _PREMISES,
            [x.id for x in p],
            [x.house for x in p],
            [x.account for x in p],
            [x.area for x in p],
            [x.residential for x in p],
            [x.residents for x in p],
            [x.owners for x in p],
            [x.meter_possible for x in p],
        )
        counts["premises"] = _counts(rows, len(p))
        # the file is the whole truth about the overrides of the premises it lists
        await conn.execute(
            "DELETE FROM premise_normatives WHERE premise_id = ANY($1::text[])", [x.id for x in p]
        )
        overrides = [(x.id, s, v) for x in p for s, v in x.normatives.items()]
        if overrides:
            await conn.execute(
                "INSERT INTO premise_normatives (premise_id, service, value)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[])",
                [o[0] for o in overrides],
                [o[1] for o in overrides],
                [o[2] for o in overrides],
            )
        m = data.meters
        rows = await conn.fetch(
            _METERS,
            [x.source for x in m],
            [x.external_id for x in m],
            [x.channel for x in m],
            [x.service for x in m],
            [x.unit for x in m],
            [x.premise for x in m],
            [x.house for x in m],
            [x.installed for x in m],
            [x.capacity_digits for x in m],
        )
        counts["meters"] = _counts(rows, len(m))
        for table in RATE_TABLES:
            rates = [r for r in data.rates if r.table == table]
            rows = await conn.fetch(
                _RATE.format(table=table),
                [r.service for r in rates],
                [r.valid_from for r in rates],
                [r.value for r in rates],
            )
            counts[table] = _counts(rows, len(rates))
    return LoadReport(counts, len(overrides))
