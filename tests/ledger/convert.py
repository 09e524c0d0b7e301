"""Puts a ledger case into the store: premises with the case's accounts, accruals summing to
its charges, opening debts, payments and key rates — so the database mode can be compared with
the case mode."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from adapters.payments.register import PaymentRow
from adapters.store.ledger import add_key_rate, record_payments, set_opening_debt


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:7]), 1)


async def case_to_store(conn: asyncpg.Connection, case: dict[str, Any]) -> None:
    await conn.execute("INSERT INTO houses (id) VALUES ('h1')")
    run_id = await conn.fetchval(
        "INSERT INTO billing_runs (period, started_at, premises, meters, lines, total, totals,"
        " load_s, compute_s, write_s) VALUES ('2026-01-01', now(), 0, 0, 0, 0, '{}', 0, 0, 0)"
        " RETURNING id"
    )
    for day, percent in case["key_rates"]:
        await add_key_rate(conn, date.fromisoformat(day), Decimal(percent))
    for account in case["accounts"]:
        aid = account["id"]
        premise = f"apt-{aid}"
        await conn.execute(
            "INSERT INTO premises (id, house_id, account, area) VALUES ($1, 'h1', $2, 50)",
            premise,
            aid,
        )
        for period, amount in account.get("opening_debt", []):
            await set_opening_debt(conn, aid, _month(period), Decimal(amount))
        for period, amount in account.get("charges", []):
            # two lines per period (a service and its recalculation) summing to the charge
            total = Decimal(amount)
            part = (total / 3).quantize(Decimal("0.01"))
            for service, method, value in (
                ("cold_water", "meter", total - part),
                ("hot_water", "recalculation", part),
            ):
                await conn.execute(
                    "INSERT INTO accruals (period, premise_id, service, method, volume, tariff,"
                    " coefficient, amount, explanation, run_id)"
                    " VALUES ($1, $2, $3, $4, 1, 1, 1, $5, '', $6)",
                    _month(period),
                    premise,
                    service,
                    method,
                    value,
                    run_id,
                )
        rows = [
            PaymentRow(
                id=p["id"],
                account=aid,
                day=date.fromisoformat(p["date"]),
                amount=int(Decimal(p["amount"]) * 100),
                period=_month(p["period"]) if "period" in p else None,
                to=p.get("to", "charges"),
                line=i + 1,
            )
            for i, p in enumerate(account.get("payments", []))
        ]
        write = await record_payments(conn, rows, "case")
        assert len(write.recorded) == len(rows), write
