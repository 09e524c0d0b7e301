"""The stale-month checks of a billing run: a month already billed must be billed again before
a later month when what it was billed from has changed since (else a resident is over- or
under-billed silently, and nothing ever reverses it).

- A month billed by an estimate (average, normative) for a meter that now has a reading in
  that month (:func:`_estimated`).
- A month billed by meter whose month-end register has changed since its run
  (:func:`_changed`): a reading arrived later in the month than the one billed, the billed one
  was corrected (``corrections``) or excluded, or an excluded one included again
  (``reading_exclusions``). Readings that do not change the month (earlier in the month,
  duplicates, the same value again) do not count. Arrival is ``readings.received_at`` (the
  supersede path sets it to the time of the correction) against the ``started_at`` of the
  month's latest run: a reading written while that run was loading may be counted as late
  (a refusal to look at, never a silent bill).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np

from core.billing import Registers, month_name
from core.billing.model import Int64Array
from core.codes import Flag
from core.errors import BillingError

_I64 = np.int64
#: where the history of a long-silent meter is searched from (as in billing_period)
_EARLIEST = 1900 * 12
#: register values are compared as billed: to 6 decimals (billing_period.READING_PLACES)
_MICRO = 10**6
_SHOWN = 10


async def refuse_stale(
    conn: asyncpg.Connection,
    period: int,
    since: date,
    db_ids: Int64Array,
    meter_ids: Sequence[str],
    regs: Registers,
    tz: ZoneInfo | None = None,
) -> None:
    """Refuses to bill ``period`` over an earlier month (from ``since``) that must be billed
    again first: billed by an estimate for a meter which now has a reading in that very month,
    or (given the run's time zone ``tz``) billed by meter from a month-end register that has
    changed since. Names the months and meters."""
    stale = await _estimated(conn, period, since, db_ids, meter_ids, regs)
    if tz is not None:
        seen = {(mo, mid) for mo, mid, _ in stale}
        late = await _changed(conn, period, since, tz, db_ids, meter_ids)
        stale += [s for s in late if (s[0], s[1]) not in seen]
    if not stale:
        return
    stale.sort()
    months = sorted({month_name(mo) for mo, _, _ in stale})
    shown = "; ".join(f"meter {mid}: {month_name(mo)} {how}" for mo, mid, how in stale[:_SHOWN])
    raise BillingError(
        f"readings arrived or changed for months already billed without them ({shown}"
        f"{' …' if len(stale) > _SHOWN else ''}): bill {', '.join(months)} again first "
        f"(uchet bill --period {months[0]}, then each later month in order), so each month is "
        f"billed from the readings stored now, estimates reversed and nothing billed twice; "
        f"{month_name(period)} was not billed"
    )


async def _estimated(
    conn: asyncpg.Connection,
    period: int,
    since: date,
    db_ids: Int64Array,
    meter_ids: Sequence[str],
    regs: Registers,
) -> list[tuple[int, str, str]]:
    """(month, meter, how) of months billed by an estimate for a meter which now has a reading
    in that very month: the reading would otherwise never be billed against the previous
    one, and the estimate never reversed."""
    rows = await conn.fetchrow(
        "SELECT array_agg(meter_id), array_agg(extract(year FROM period)::int * 12"
        " + extract(month FROM period)::int - 1), array_agg(method)"
        " FROM billed_estimates WHERE period >= $1 AND period < $2",
        since,
        date(period // 12, period % 12 + 1, 1),
    )
    assert rows is not None
    if not rows[0] or db_ids.size == 0:
        return []
    # (meter index, month) of each stored estimate of this run's meters, looked up among its
    # registers (a join on the ids in SQL sent millions of them as an array)
    order = np.argsort(db_ids)
    est_db = np.array(rows[0], dtype=_I64)
    where = np.minimum(np.searchsorted(db_ids[order], est_db), db_ids.size - 1)
    ours = np.flatnonzero(db_ids[order[where]] == est_db)
    est_month = np.array(rows[1], dtype=_I64)[ours]
    est_meter = order[where[ours]]
    how = [rows[2][i] for i in ours.tolist()]
    span = 1 << 32
    have = regs.meter * span + (regs.month - _EARLIEST)
    wanted = est_meter * span + (est_month - _EARLIEST)
    # a sorted lookup: np.isin over every register of a region is ~10x slower (numpy 2.4)
    if have.size > 1 and bool((have[1:] < have[:-1]).any()):  # as counted: sorted already
        have = np.sort(have)
    at = np.minimum(np.searchsorted(have, wanted), max(have.size - 1, 0))
    hit = np.flatnonzero(have[at] == wanted) if have.size else np.empty(0, dtype=_I64)
    return [
        (int(est_month[i]), meter_ids[int(est_meter[i])], f"billed by {how[i]}")
        for i in hit.tolist()
    ]


# The latest run of each month in [$1, $2); the month's bounds in the run's time zone.
_RUNS = """
WITH runs AS (
    SELECT DISTINCT ON (period) period, started_at FROM billing_runs
    WHERE period >= $1 AND period < $2 ORDER BY period, id DESC
)
SELECT period, started_at, (period::timestamp AT TIME ZONE $3) AS lo,
       ((period + interval '1 month')::timestamp AT TIME ZONE $3) AS hi
FROM runs ORDER BY period
"""

# (meter, billed month) where, after the month's run, a reading of that month or of an earlier
# one (its base) was written (new or superseded), excluded or included. One pass over the
# readings of the window [$5, $6) written since the earliest run ($7).
_TOUCHED = """
WITH b AS (
    SELECT * FROM unnest($1::date[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[])
        AS b(period, started_at, lo, hi)
), hits AS (
    SELECT r.meter_id, r.ts, r.received_at AS at FROM readings r
    WHERE r.ts >= $5 AND r.ts < $6 AND r.received_at > $7 AND r.kind = 0
    UNION ALL
    SELECT e.meter_id, e.ts, e.at FROM reading_exclusions e
    WHERE e.ts >= $5 AND e.ts < $6 AND e.at > $7
)
SELECT DISTINCT h.meter_id, b.period FROM hits h
JOIN b ON h.ts < b.hi AND h.at > b.started_at
"""

# The readings of each touched meter-month from the window start ($6) to the month's end, as
# they are now and as the month's run saw them: a reading written since did not exist (unless
# it was a correction: then its old value did), an exclusion state changed since was the
# opposite. ``older`` is the register before the window (for a meter silent all through it).
_STATES = """
WITH t AS (
    SELECT * FROM unnest($1::integer[], $2::date[], $3::timestamptz[], $4::timestamptz[],
                         $5::timestamptz[]) AS t(meter_id, period, started_at, lo, hi)
)
SELECT t.meter_id, t.period, coalesce(m.capacity_digits, -1) AS digits, o.value AS older,
       r.ts < t.lo AS before, r.value AS now_value, r.flags AS now_flags,
       coalesce(c.old_value, r.value) AS then_value,
       (r.received_at <= t.started_at OR c.old_value IS NOT NULL) AS existed,
       CASE x.action WHEN 'include' THEN r.flags | $7 WHEN 'exclude' THEN r.flags & ~$7
            ELSE r.flags END AS then_flags
FROM t JOIN meters m ON m.id = t.meter_id
JOIN readings r ON r.meter_id = t.meter_id AND r.ts >= $6 AND r.ts < t.hi AND r.kind = 0
LEFT JOIN LATERAL (
    SELECT old_value FROM corrections c WHERE c.meter_id = r.meter_id AND c.ts = r.ts
      AND c.corrected_at > t.started_at ORDER BY c.id LIMIT 1
) c ON true
LEFT JOIN LATERAL (
    SELECT action FROM reading_exclusions e WHERE e.meter_id = r.meter_id AND e.ts = r.ts
      AND e.at > t.started_at ORDER BY e.id LIMIT 1
) x ON true
LEFT JOIN LATERAL (
    SELECT value FROM readings q WHERE q.meter_id = t.meter_id AND q.ts < $6 AND q.kind = 0
      AND q.flags & $8 = 0 ORDER BY q.ts DESC LIMIT 1
) o ON true
ORDER BY t.meter_id, t.period, r.ts
"""


@dataclass(frozen=True)
class MonthBill:
    """What a month's bill by meter is computed from: the register before the month (its
    base), R(m), and the register's turns inside the month; values in millionths."""

    base: int | None
    last: int | None  # None: no reading that bills in the month
    turns: int

    def shown(self) -> str:
        def num(v: int | None) -> str:
            return "none" if v is None else f"{v / _MICRO:g}"

        turns = f", {self.turns} rollover(s)" if self.turns else ""
        return f"from {num(self.base)} to {num(self.last)}{turns}"


def month_bill(base: float | None, values: Sequence[float], digits: int) -> MonthBill:
    """The bill inputs of a month with readings ``values`` (in time order, those that bill)
    after the register ``base``, on a register of ``digits`` digits (-1: never turns over)."""
    micro = [round(v * _MICRO) for v in values]
    start = None if base is None else round(base * _MICRO)
    if not micro or digits < 0:
        return MonthBill(start, micro[-1] if micro else None, 0)
    turns = sum(b < a for a, b in itertools.pairwise(micro))
    turns += start is not None and micro[0] < start
    return MonthBill(start, micro[-1], turns)


def _last(values: Sequence[float], default: float | None) -> float | None:
    return values[-1] if values else default


async def _changed(
    conn: asyncpg.Connection,
    period: int,
    since: date,
    tz: ZoneInfo,
    db_ids: Int64Array,
    meter_ids: Sequence[str],
) -> list[tuple[int, str, str]]:
    """(month, meter, how) of months billed by meter whose register values (the month's or
    its base) have changed since their latest run."""
    from adapters.store.billing_period import EXCLUDED_FLAGS, READING_LIMIT  # a cycle

    runs = await conn.fetch(_RUNS, since, date(period // 12, period % 12 + 1, 1), tz.key)
    if not runs or db_ids.size == 0:
        return []
    start = await conn.fetchval("SELECT $1::date::timestamp AT TIME ZONE $2", since, tz.key)
    cols = [[r[k] for r in runs] for k in ("period", "started_at", "lo", "hi")]
    touched = await conn.fetch(_TOUCHED, *cols, start, max(cols[3]), min(cols[1]))
    if touched:  # of the run's meters only (filtered here: few rows, millions of ids)
        ids = np.sort(db_ids)
        mids = np.array([t["meter_id"] for t in touched], dtype=_I64)
        at = np.minimum(np.searchsorted(ids, mids), ids.size - 1)
        touched = [touched[i] for i in np.flatnonzero(ids[at] == mids).tolist()]
    if not touched:
        return []
    by_period = {r["period"]: r for r in runs}
    excluded = int(EXCLUDED_FLAGS)
    rows = await conn.fetch(
        _STATES,
        [t["meter_id"] for t in touched],
        *(
            [by_period[t["period"]][k] for t in touched]
            for k in ("period", "started_at", "lo", "hi")
        ),
        start,
        int(Flag.EXCLUDED),
        excluded,
    )

    def bills(value: float, flags: int, digits: int) -> bool:  # as billing_period loads them
        ceiling = min(10.0**digits if digits >= 0 else READING_LIMIT, READING_LIMIT)
        return flags & excluded == 0 and 0 <= value < ceiling

    groups: dict[tuple[int, date], list[asyncpg.Record]] = {}
    for r in rows:
        groups.setdefault((r["meter_id"], r["period"]), []).append(r)
    name = dict(zip(db_ids.tolist(), meter_ids, strict=True))
    out = []
    for (meter, day), group in groups.items():
        digits, older = group[0]["digits"], group[0]["older"]
        if older is not None and not bills(older, 0, digits):
            older = None
        then = [
            r for r in group if r["existed"] and bills(r["then_value"], r["then_flags"], digits)
        ]
        now = [r for r in group if bills(r["now_value"], r["now_flags"], digits)]
        was = month_bill(
            _last([r["then_value"] for r in then if r["before"]], older),
            [r["then_value"] for r in then if not r["before"]],
            digits,
        )
        is_ = month_bill(
            _last([r["now_value"] for r in now if r["before"]], older),
            [r["now_value"] for r in now if not r["before"]],
            digits,
        )
        if was.last is None or was == is_:
            continue  # not billed by meter then (an estimate: see _estimated), or unchanged
        how = f"billed by meter {was.shown()}, now {is_.shown()}"
        out.append((day.year * 12 + day.month - 1, name[meter], how))
    return out
