"""Writes one period's result in one transaction: the period's old accruals, house balances and
estimates are deleted and the new ones copied in, so billing a period again replaces it."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg
import numpy as np

from adapters.billing.copy_binary import numeric_field, text_field
from adapters.store.billing_copy import accrual_chunks, premise_heads
from adapters.store.billing_partition import copy_period, swap_period
from adapters.store.billing_period import month_date
from core.billing import METHODS, SERVICES, BillingResult
from core.billing.model import M_AVERAGE, M_NORMATIVE, Int64Array

_HOUSES = """
INSERT INTO house_balances (period, house_id, service, house_volume, individual_volume,
                            excess_volume, distributed_volume, operator_volume, run_id)
SELECT $1, h, s, hv * 0.000001, iv * 0.000001, ev * 0.000001, dv * 0.000001, ov * 0.000001, $2
FROM unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
            $9::bigint[]) AS t(h, s, hv, iv, ev, dv, ov)
"""

# the rounded volume for people, and the exact fraction the next run reverses (migration 10)
_ESTIMATES = """
INSERT INTO billed_estimates (meter_id, period, method, volume, run_id, exact_num, exact_den)
SELECT m, $1, me, v * 0.000001, $2, n, d
FROM unnest($3::integer[], $4::text[], $5::bigint[], $6::numeric[], $7::numeric[])
    AS t(m, me, v, n, d)
"""


def accrual_stream(
    result: BillingResult, texts: Iterable[list[str]], run_id: int, chunk: int = 100_000
) -> Iterator[bytes]:
    """The period's accrual lines as a binary COPY stream into ``accruals``."""
    inp, a = result.input, result.accruals
    one = Decimal(1)
    combo: list[bytes] = []
    for s in range(len(SERVICES)):
        tariff = inp.tariffs.get(s, Decimal(0))
        for m in range(len(METHODS)):
            for k in (one, inp.settings.increasing_coefficient):
                combo.append(
                    text_field(SERVICES[s])
                    + text_field(METHODS[m])
                    + numeric_field(tariff)
                    + numeric_field(k)
                )
    combo_of = (a.service * len(METHODS) + a.method) * 2 + a.increased
    return accrual_chunks(
        heads=premise_heads(month_date(inp.last_period), inp.premises.ids),
        premise=a.premise,
        combo=combo,
        combo_of=combo_of,
        volume_micro=a.volume_micro,
        amount_kopecks=a.amount_kopecks,
        texts=texts,
        run_id=run_id,
        chunk=chunk,
    )


async def write_accruals(
    conn: asyncpg.Connection, result: BillingResult, texts: Iterable[list[str]], run_id: int
) -> None:
    """Copies the lines by binary COPY into the run's own table (put in place later by
    :func:`~adapters.store.billing_partition.swap_period`)."""
    day = month_date(result.input.last_period)
    await copy_period(conn, day, run_id, in_thread(accrual_stream(result, texts, run_id)))


async def in_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """``chunks`` built off the event loop, the next one while the current one is sent."""
    done = object()
    pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, done))
    while True:
        data = await pending
        if data is done:
            return
        pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, done))
        assert isinstance(data, bytes)
        yield data


def half_up(num: int, den: int) -> int:
    """round(num / den) with halves away from zero (den > 0), on Python integers."""
    q = (2 * abs(num) + den) // (2 * den)
    return -q if num < 0 else q


def _micro(values: Int64Array, unit: int) -> list[int]:
    return [half_up(v * 10**6, unit) for v in values.tolist()]


def exact_fractions(values: Int64Array, unit: int) -> tuple[list[Decimal], list[Decimal]]:
    """Each ``value / unit`` as a reduced fraction (numerators, denominators)."""
    nums, dens = [], []
    for v in values.tolist():
        g = math.gcd(int(v), unit) or 1
        nums.append(Decimal(int(v) // g))
        dens.append(Decimal(unit // g))
    return nums, dens


@dataclass(frozen=True)
class ServiceTotal:
    service: str
    lines: int
    amount: Decimal


def totals(result: BillingResult) -> list[ServiceTotal]:
    """Lines and amount per service that has lines, in the order of ``SERVICES``."""
    a = result.accruals
    out = []
    for s, name in enumerate(SERVICES):
        sel = a.service == s
        n = int(sel.sum())
        if n:
            kopecks = int(a.amount_kopecks[sel].sum(dtype=np.int64))
            out.append(ServiceTotal(name, n, Decimal(kopecks).scaleb(-2)))
    return out


async def write_result(
    conn: asyncpg.Connection,
    result: BillingResult,
    texts: Iterable[list[str]],
    meter_db_ids: Int64Array,
    *,
    started_at: datetime,
    timings: tuple[float, float],
) -> tuple[int, int]:
    """Replaces the period's rows with ``result``; returns (run id, estimates written).

    The caller holds the period's advisory lock; ``timings`` are (load_s, compute_s).
    """
    inp = result.input
    period = inp.last_period
    day = month_date(period)
    a = result.accruals
    by_service = totals(result)
    total = sum((t.amount for t in by_service), Decimal(0))
    t0 = time.perf_counter()
    async with conn.transaction():
        run_id: int = await conn.fetchval(
            "INSERT INTO billing_runs (period, started_at, premises, meters, lines, total,"
            " totals, load_s, compute_s, write_s)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) RETURNING id",
            day,
            started_at,
            len(inp.premises.ids),
            len(inp.meters.ids) + len(inp.house_meters.ids),
            int(a.period.size),
            total,
            json.dumps({t.service: str(t.amount) for t in by_service}),
            *timings,
        )
        for table in ("house_balances", "billed_estimates"):
            await conn.execute(f"DELETE FROM {table} WHERE period = $1", day)
        await write_accruals(conn, result, texts, run_id)
        hr = result.houses
        measured = hr.measured.tolist()

        def maybe(values: Int64Array) -> list[int | None]:
            micro = _micro(values, result.unit)
            return [v if ok else None for v, ok in zip(micro, measured, strict=True)]

        await conn.execute(
            _HOUSES,
            day,
            run_id,
            [inp.houses.ids[i] for i in hr.house.tolist()],
            [SERVICES[s] for s in hr.service.tolist()],
            maybe(hr.house_volume),
            _micro(hr.individual, result.unit),
            maybe(hr.excess),
            _micro(hr.distributed, result.unit),
            _micro(hr.operator, result.unit),
        )
        # what each meter was billed without a reading: the run that gets one reverses it
        ml = result.meter_lines
        est = np.flatnonzero(
            (ml.period == period)
            & ((ml.method == M_AVERAGE) | (ml.method == M_NORMATIVE))
            & (ml.current < 0)
        )
        await conn.execute(
            _ESTIMATES,
            day,
            run_id,
            meter_db_ids[ml.meter[est]].tolist(),
            [METHODS[m] for m in ml.method[est].tolist()],
            _micro(ml.volume[est], result.unit),
            *exact_fractions(ml.volume[est], result.unit),
        )
        # last: from here to the commit readers of accruals wait
        await swap_period(conn, day, run_id)
        await conn.execute(
            "UPDATE billing_runs SET write_s = $2, finished_at = now() WHERE id = $1",
            run_id,
            time.perf_counter() - t0,
        )
    return run_id, int(est.size)
