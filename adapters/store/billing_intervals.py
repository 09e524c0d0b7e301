"""House meters that send interval energies only — an ASKUE house input (макет 80020: kWh per
half-hour, no register) — as registers for the billing rules.

spec/billing-case.md bills СОИ (and heating) by a house meter from R(P) − R(P−1). A house meter
with no register reading anywhere in the run's window, whose interval readings of month P
cover it exactly once (from the local month's first instant to its last, no gap, no overlap,
none negative, none excluded or flagged away), gets R(P−1) = 0 and R(P) = the month's sum, so
R(P) − R(P−1) is exactly the energy it measured. Any other month stays without house meter
data (СОИ by normative) and a warning of the run says why. A meter with registers is billed
by its registers alone. The sum is exact: each float8 value as PostgreSQL's numeric (15
significant digits), added in numeric, rounded half-up to the register's 6 decimals.

Not covered: interval readings that arrive for a month already billed are not among the late
readings ``adapters/store/billing_stale.py`` refuses on; re-bill that month.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import asyncpg
import numpy as np

from core.billing.model import Int64Array

#: a month's sum from this on (millionths; 10¹² kWh, as billing_period.READING_LIMIT) is no
#: house's
_LIMIT_MICRO = 10**18

_INTERVALS = """
SELECT meter_id, sum(value::numeric)::text AS total, count(*) AS n, min(ts) AS first,
       max(end_ts) AS last, sum(extract(epoch FROM end_ts - ts)) AS seconds,
       bool_or(end_ts IS NULL) AS open, bool_or(value < 0 OR value IN ('NaN', 'Infinity')) AS bad,
       bool_or(ts < before) AS overlap
FROM (
    SELECT meter_id, ts, end_ts, value,
           lag(end_ts) OVER (PARTITION BY meter_id ORDER BY ts) AS before
    FROM readings
    WHERE kind = 1 AND flags & $1 = 0 AND meter_id = ANY($2::integer[])
      AND ts >= $3 AND ts < $4
) r
GROUP BY meter_id
"""


def _why_not(row: asyncpg.Record, start: datetime, end: datetime) -> str | None:
    """Why the intervals of a meter do not cover [start, end) exactly once; None if they do."""
    if row["open"]:
        return "an interval reading without its end"
    if row["bad"]:
        return "a negative or impossible interval value"
    if row["overlap"]:
        return "overlapping intervals"
    hours = (end - start).total_seconds() / 3600
    covered = float(row["seconds"]) / 3600
    if row["first"] != start or row["last"] != end or covered != hours:
        return f"intervals cover {covered:g} of the month's {hours:g} h"
    return None


async def interval_month(
    conn: asyncpg.Connection,
    flags: int,
    start: datetime,
    end: datetime,
    db_ids: Int64Array,
    names: Sequence[str],
    digits: Int64Array,
    register_meters: Int64Array,
    month: str,
) -> tuple[Int64Array, Int64Array, list[str]]:
    """House meters ``db_ids`` (names, capacity ``digits``, -1: none) with intervals covering
    the month [start, end) and no register (``register_meters``: the meter db id of every
    register reading loaded, any order): their db ids, the month's sum in millionths, and
    warnings about the others."""
    none = np.zeros(0, dtype=np.int64)
    if db_ids.size == 0:
        return none, none, []
    rows = await conn.fetch(_INTERVALS, flags, db_ids.tolist(), start, end)
    if not rows:
        return none, none, []
    position = {int(d): i for i, d in enumerate(db_ids.tolist())}
    candidates = np.sort(np.array([int(r["meter_id"]) for r in rows], dtype=np.int64))
    at = np.minimum(np.searchsorted(candidates, register_meters), candidates.size - 1)
    registered = set(register_meters[candidates[at] == register_meters].tolist())
    got_ids, got_micro, warnings = [], [], []
    for row in rows:
        i = position[int(row["meter_id"])]
        if int(row["meter_id"]) in registered:
            continue  # billed by its registers
        name = names[i]
        why = _why_not(row, start, end)
        micro = 0
        if why is None:
            micro = int((Decimal(row["total"]) * 10**6).to_integral_value(ROUND_HALF_UP))
            g = int(digits[i])
            if micro >= (_LIMIT_MICRO if g < 0 else min(_LIMIT_MICRO, 10 ** (g + 6))):
                why = f"the month's sum {row['total']} is past what its register holds"
        if why is not None:
            warnings.append(
                f"house meter {name}: {why} in {month}: its house data is not used (СОИ by "
                "normative)"
            )
            continue
        got_ids.append(int(row["meter_id"]))
        got_micro.append(micro)
    return np.array(got_ids, dtype=np.int64), np.array(got_micro, dtype=np.int64), warnings
