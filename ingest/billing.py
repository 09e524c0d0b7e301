"""One billing run of the store for a period — the use case shared by ``uchet bill``, the
operators' API and the city replay: load (:mod:`adapters.store.billing_period`), compute and explain
(:mod:`core.billing`, off the event loop), write (:mod:`adapters.store.billing_accruals`), timed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from adapters.billing.reference import parse_period
from adapters.store.billing_accruals import ServiceTotal, totals, write_result
from adapters.store.billing_period import load_period, month_date
from adapters.store.billing_runs import billed_after, period_lock, refuse_opening_debts
from adapters.store.connections import Connection
from core.billing import BillingResult, BillingSettings, bill, month_index, unbilled_messages
from core.billing.explain import explanation_chunks


@dataclass(frozen=True)
class BillReport:
    period: str
    run_id: int
    premises: int
    meters: int
    lines: int
    estimates: int
    services: list[ServiceTotal]
    total: Decimal
    #: seconds of each stage; explanations are written while the first lines are sent, so
    #: ``write_s`` is the rest of the write (the four add up to the run's time)
    load_s: float
    compute_s: float
    explain_s: float
    write_s: float
    warnings: list[str] = field(default_factory=list)
    #: (meter, why) of readings the run could not use; everything else was billed
    unbilled: list[tuple[str, str]] = field(default_factory=list)
    result: BillingResult | None = None
    explanations: list[str] = field(default_factory=list)


#: the stages of a run, in order, for a progress display
STAGES = ("load", "compute", "explain", "write")


def parse_billing_period(text: str) -> int:
    """``YYYY-MM`` as a month index; BillingError naming the option otherwise."""
    day = parse_period(text, "--period")
    return month_index(day.year, day.month)


async def bill_period(
    conn: Connection,
    period: int,
    *,
    timezone: str,
    settings: BillingSettings | None = None,
    progress: Callable[[str], None] | None = None,
    on_stage: Callable[[int, str], None] | None = None,
) -> BillReport:
    """Bills ``period`` from the store and replaces its accruals (idempotent).

    ``progress`` is told each step as it starts and ends (load, compute, explanations, write)
    in a line with the time; ``on_stage(done, name)`` is called as each of :data:`STAGES`
    starts (``done`` stages finished) and once more with ``len(STAGES)`` at the end.
    """
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    stage = iter(range(len(STAGES) + 1))

    def step(text: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - t_start:7.2f} s] {text}")
        if on_stage is not None:
            done = next(stage)
            on_stage(done, STAGES[done] if done < len(STAGES) else "done")

    async with period_lock(conn, period):
        t0 = time.perf_counter()
        step("загрузка помещений, счётчиков, показаний и расчётных показаний")
        await refuse_opening_debts(conn, month_date(period))
        data = await load_period(conn, period, timezone=timezone, settings=settings)
        t1 = time.perf_counter()
        n_premises = len(data.input.premises.ids)
        step(f"загружено помещений: {n_premises}, счётчиков: {len(data.input.meters.ids)}; расчёт")
        # CPU work off the event loop: an API process keeps answering meanwhile
        # partial: a premise the rules cannot bill (no normative) is named, the rest billed
        result = await asyncio.to_thread(bill, data.input, partial=True)
        t2 = time.perf_counter()
        step(f"строк: {result.accruals.period.size}; запись расшифровок")
        texts: list[str] = []
        explain_s = 0.0

        def explained() -> Iterator[list[str]]:
            # the explanations of the next lines, made while the previous ones are sent
            nonlocal explain_s
            chunks = explanation_chunks(result)
            while True:
                t = time.perf_counter()
                part = next(chunks, None)
                explain_s += time.perf_counter() - t
                if part is None:
                    step("расшифровки записаны; завершение записи (ключи, дома, замена)")
                    return
                texts.extend(part)
                yield part

        run_id, estimates = await write_result(
            conn,
            result,
            explained(),
            data.meter_db_ids,
            started_at=started,
            timings=(t1 - t0, t2 - t1),
        )
        t4 = time.perf_counter()
        step("записано")
        later = await billed_after(conn, month_date(period))
    warnings = [*data.warnings, *unbilled_messages(result)]
    if later:
        names = ", ".join(f"{p:%Y-%m}" for p in later)
        warnings.append(
            f"later periods are already billed ({names}): their recalculations used the "
            "estimates this run replaced; bill them again in order"
        )
    inp = data.input
    services = totals(result)
    return BillReport(
        period=f"{month_date(period):%Y-%m}",
        run_id=run_id,
        premises=len(inp.premises.ids),
        meters=len(inp.meters.ids) + len(inp.house_meters.ids),
        lines=int(result.accruals.period.size),
        estimates=estimates,
        services=services,
        total=sum((s.amount for s in services), Decimal(0)),
        load_s=t1 - t0,
        compute_s=t2 - t1,
        explain_s=explain_s,
        write_s=t4 - t2 - explain_s,
        warnings=warnings,
        unbilled=list(data.unbilled),
        result=result,
        explanations=texts,
    )
