"""The accruals of one period as a partition of their own (migration 19).

A run copies its lines into a new table, adds the primary key to it (one sorted build),
then — in the same transaction, at the very end — drops the period's previous partition and
attaches the new one in its place. Re-billing a period thus leaves no dead rows behind, and
the copy never steps over the previous run's index entries.
Readers of ``accruals`` wait only for the swap (the parent is locked from the drop to the
commit), and see either the old lines or the new ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from datetime import date

import asyncpg

#: the order of the columns in the COPY stream (run id before the long explanation)
ACCRUAL_COLUMNS = (
    "period",
    "premise_id",
    "service",
    "method",
    "tariff",
    "coefficient",
    "volume",
    "amount",
    "run_id",
    "explanation",
)

# the columns of ``accruals`` (migration 2), and a check that lets the attach skip its scan;
# spelled out, not ``LIKE accruals``: that would lock ``accruals`` until the commit, and two
# runs of different periods would deadlock at their swaps
_STAGING = """
CREATE TABLE {name} (
    period      date           NOT NULL CHECK (period = '{day}'),
    premise_id  text           NOT NULL,
    service     text           NOT NULL,
    method      text           NOT NULL,
    volume      numeric(20, 6) NOT NULL,
    tariff      numeric        NOT NULL,
    coefficient numeric        NOT NULL,
    amount      numeric(14, 2) NOT NULL,
    explanation text           NOT NULL,
    run_id      bigint         NOT NULL
)
"""


def partition_name(day: date) -> str:
    """The partition of ``accruals`` holding the period that begins on ``day``."""
    return f"accruals_p{day:%Y%m}"


def _staging_name(day: date, run_id: int) -> str:
    return f"{partition_name(day)}_r{run_id}"


async def copy_period(
    conn: asyncpg.Connection, day: date, run_id: int, source: AsyncIterable[bytes]
) -> None:
    """Copies the binary COPY ``source`` (columns :data:`ACCRUAL_COLUMNS`) into the run's new
    table and indexes it; :func:`swap_period` then puts it in place."""
    name = _staging_name(day, run_id)
    await conn.execute(_STAGING.format(name=name, day=day.isoformat()))
    await conn.copy_to_table(name, source=source, columns=ACCRUAL_COLUMNS, format="binary")
    await conn.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (period, premise_id, service, method)")


async def swap_period(conn: asyncpg.Connection, day: date, run_id: int) -> None:
    """Replaces the period's partition (and any of its rows in the default one) with the
    table :func:`copy_period` filled; inside the caller's transaction."""
    name, new = partition_name(day), _staging_name(day, run_id)
    # the parent first, and its strongest lock (the drop of a partition takes it anyway): two
    # runs of different periods then swap one after the other. Without it one run dropping its
    # (absent) partition skipped the parent, deleted from the default partition, and deadlocked
    # with the other run's attach, which needs the default partition exclusively.
    await conn.execute("LOCK TABLE ONLY accruals IN ACCESS EXCLUSIVE MODE")
    await conn.execute(f"DROP TABLE IF EXISTS {name}")
    await conn.execute("DELETE FROM accruals_default WHERE period = $1", day)
    await conn.execute(f"ALTER TABLE accruals ATTACH PARTITION {new} FOR VALUES IN ('{day}')")
    await conn.execute(f"ALTER TABLE {new} RENAME TO {name}")
