"""The stale-month check of a billing run: a month billed without readings that have arrived
since must be billed again before a later month (else the resident is over-billed silently)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg
import numpy as np

from core.billing import Registers, month_name
from core.billing.model import Int64Array
from core.errors import BillingError

_I64 = np.int64
#: where the history of a long-silent meter is searched from (as in billing_period)
_EARLIEST = 1900 * 12


async def refuse_stale(
    conn: asyncpg.Connection,
    period: int,
    since: date,
    db_ids: Int64Array,
    meter_ids: Sequence[str],
    regs: Registers,
) -> None:
    """Refuses to bill ``period`` over an earlier month that was billed by an estimate for a
    meter which now has a reading in that very month: that month's bill is stale (the
    reading would otherwise never be billed against the previous one, and the estimate
    never reversed), so it must be billed again first. Names the months and meters."""
    rows = await conn.fetchrow(
        "SELECT array_agg(meter_id), array_agg(extract(year FROM period)::int * 12"
        " + extract(month FROM period)::int - 1), array_agg(method)"
        " FROM billed_estimates JOIN unnest($3::integer[]) AS k(id) ON k.id = meter_id"
        " WHERE period >= $1 AND period < $2",
        since,
        date(period // 12, period % 12 + 1, 1),
        db_ids.tolist(),
    )
    assert rows is not None
    if not rows[0]:
        return
    # (meter index, month) of each stored estimate, looked up among this run's registers
    order = np.argsort(db_ids)
    est_db = np.array(rows[0], dtype=_I64)
    est_month = np.array(rows[1], dtype=_I64)
    where = np.minimum(np.searchsorted(db_ids[order], est_db), max(db_ids.size - 1, 0))
    est_meter = order[where]
    span = 1 << 32
    have = regs.meter * span + (regs.month - _EARLIEST)
    hit = np.flatnonzero(np.isin(est_meter * span + (est_month - _EARLIEST), have))
    stale = sorted(
        (int(est_month[i]), meter_ids[int(est_meter[i])], str(rows[2][i])) for i in hit.tolist()
    )
    if not stale:
        return
    months = sorted({month_name(mo) for mo, _, _ in stale})
    shown = "; ".join(
        f"meter {mid}: {month_name(mo)} billed by {how}" for mo, mid, how in stale[:10]
    )
    raise BillingError(
        f"readings arrived for months already billed without them ({shown}"
        f"{' …' if len(stale) > 10 else ''}): bill {', '.join(months)} again first "
        f"(uchet bill --period {months[0]}, then each later month in order), so the estimates "
        f"are reversed and nothing is billed twice; {month_name(period)} was not billed"
    )
