"""What the ledger's routes, the cabinet page and ``uchet epd`` share: an account's month read
from the store and settled, the debtors' aging, and the ЕПД of an account (payee from a file)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.store.ledger import (
    Connection,
    account_details,
    load_accounts,
    month_accruals,
    stored_key_rates,
)
from core.errors import ConfigError
from core.ledger import LedgerError
from core.ledger.allocate import settle
from core.ledger.case import statement_json
from core.ledger.dates import day_name, due_date, first_day, last_day, period_name
from core.ledger.key_rates import merged
from core.ledger.model import Account, KeyRates, LedgerSettings, Settled
from core.ledger.money import format_money
from core.ledger.payment_qr import Payee
from core.ledger.statement import Statement, statement

SETTINGS = LedgerSettings()
BUCKETS = (("0-30", 30), ("31-90", 90), ("91-180", 180), ("181+", None))
"""Aging of a period's debt by its days overdue (from its due date)."""
SERVICE_NAMES = {
    "cold_water": ("Холодная вода", "м³"),
    "hot_water": ("Горячая вода", "м³"),
    "sewage": ("Водоотведение", "м³"),
    "electricity": ("Электроэнергия", "кВт·ч"),
    "gas": ("Газ", "м³"),
    "heating": ("Отопление", "Гкал"),
}
PAYEE_FIELDS = ("name", "inn", "kpp", "account", "bank", "bic", "corr_account")


@dataclass(frozen=True, slots=True)
class Month:
    account: Account
    settled: Settled
    statement: Statement

    @property
    def to_pay(self) -> int:
        s = self.statement
        return max(s.closing_balance, 0) + max(s.penalty_due, 0)


async def months(
    conn: Connection, month: int, day: int | None = None, keys: Sequence[str] | None = None
) -> list[Month]:
    """The statements of ``month`` as of ``day`` (default: its last day) of the store's
    accounts (or of ``keys``), ordered by account."""
    day = last_day(month) if day is None else min(day, last_day(month))
    until = date.fromordinal(day)
    rates = merged(await stored_key_rates(conn))
    accounts = await load_accounts(conn, until, keys)
    out = []
    for a in accounts:
        try:
            settled = settle(a, day, rates, SETTINGS)
            out.append(Month(a, settled, _statement(settled, month, day, rates)))
        except LedgerError as exc:
            raise LedgerError(f"account {a.id}: {exc}") from exc
    return out


def _statement(settled: Settled, month: int, day: int, rates: KeyRates) -> Statement:
    return statement(settled, month, day, rates, SETTINGS)


def balance_json(m: Month) -> dict[str, Any]:
    """The resident's balance: the statement (spec form) plus the sum to pay and payments."""
    s = m.statement
    out = statement_json(s, m.settled)
    out["account"] = m.account.id
    out["to_pay"] = format_money(m.to_pay)
    out["due"] = day_name(due_date(s.month, SETTINGS.due_day))
    lo = first_day(s.month)
    out["payments"] = [
        {
            "id": p.id,
            "date": day_name(p.day),
            "amount": format_money(p.amount),
            "period": None if p.period is None else period_name(p.period),
            "to": p.to,
        }
        for p in m.account.payments
        if lo <= p.day <= s.day
    ]
    return out


def aging(s: Statement) -> dict[str, int]:
    """The statement's unpaid period debt by days overdue (not yet due counts as 0–30)."""
    out = {name: 0 for name, _ in BUCKETS}
    for line in s.periods:
        if line.debt <= 0:
            continue
        for name, top in BUCKETS:
            if top is None or line.delay_days <= top:
                out[name] += line.debt
                break
    return out


def debtors_json(items: list[Month], houses: dict[str, str], month: int) -> dict[str, Any]:
    """Accounts that owe (period debt or penalty due) with their aging, and the totals."""
    rows = []
    totals = {name: 0 for name, _ in BUCKETS}
    debt_total = penalty_total = 0
    for m in items:
        s = m.statement
        buckets = aging(s)
        debt = sum(buckets.values())
        if debt <= 0 and s.penalty_due <= 0:
            continue
        for k, v in buckets.items():
            totals[k] += v
        debt_total += debt
        penalty_total += max(s.penalty_due, 0)
        rows.append(
            {
                "account": m.account.id,
                "house": houses.get(m.account.id),
                "debt": format_money(debt),
                "penalty_due": format_money(max(s.penalty_due, 0)),
                "closing_balance": format_money(s.closing_balance),
                "oldest_delay_days": max(
                    (p.delay_days for p in s.periods if p.debt > 0), default=0
                ),
                "buckets": {k: format_money(v) for k, v in buckets.items()},
            }
        )
    return {
        "month": period_name(month),
        "date": day_name(last_day(month)),
        "accounts": rows,
        "totals": {
            "accounts": len(rows),
            "debt": format_money(debt_total),
            "penalty_due": format_money(penalty_total),
            "buckets": {k: format_money(v) for k, v in totals.items()},
        },
    }


def load_payee(path: Path) -> Payee:
    """The payee (получатель платежа) of the ЕПД: a JSON object with PAYEE_FIELDS."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"ЕПД payee file {path}: cannot read ({exc.strerror})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"ЕПД payee file {path}: not UTF-8 JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"ЕПД payee file {path}: expected a JSON object")
    missing = [f for f in PAYEE_FIELDS if not isinstance(raw.get(f), str) or not raw[f]]
    if missing:
        raise ConfigError(f"ЕПД payee file {path}: field {missing[0]!r} missing or not text")
    return Payee(**{f: raw[f] for f in PAYEE_FIELDS})


def _plain(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def service_lines(rows: Sequence[Any]) -> list[Any]:
    """The ЕПД lines of one premise's accruals: per service the volume, tariff and amount of
    its lines, with the recalculation lines apart."""
    from adapters.payments.epd import ServiceLine

    by: dict[str, dict[str, Any]] = {}
    for r in rows:
        line = by.setdefault(
            r["service"], {"volume": Decimal(0), "tariff": None, "amount": 0, "recalc": 0}
        )
        kopecks = int(r["amount"] * 100)
        if r["method"] == "recalculation":
            line["recalc"] += kopecks
            continue
        line["volume"] += r["volume"]
        line["amount"] += kopecks
        line["tariff"] = r["tariff"] if line["tariff"] in (None, r["tariff"]) else "various"
    out = []
    for service, line in by.items():
        name, unit = SERVICE_NAMES.get(service, (service, ""))
        tariff = line["tariff"]
        out.append(
            ServiceLine(
                service=name,
                volume=_plain(line["volume"]),
                unit=unit,
                tariff="разные" if tariff == "various" else _plain(tariff or Decimal(0)),
                amount=line["amount"],
                recalculation=line["recalc"],
            )
        )
    return out


def epd_statement(settled: Settled, period: int, rates: KeyRates) -> Statement:
    """The figures of period P's ЕПД (``settled`` as of the 1st of P+1, when P is charged):
    the debt before P's payments (earlier charges included), P's payments, P's charges, the
    penalty accrued in P, and the balance and penalty due on the 1st of P+1."""
    day = first_day(period + 1)
    during = _statement(settled, period, last_day(period), rates)
    after = _statement(settled, period + 1, day, rates)
    return replace(
        after,
        month=period,
        opening_balance=after.opening_balance + during.paid,
        paid=after.paid + during.paid,
        penalty_month=after.penalty_total - (during.penalty_total - during.penalty_month),
    )


async def epd_documents(
    conn: Connection,
    month: int,
    payee: Payee,
    *,
    keys: Sequence[str] | None = None,
    house: str | None = None,
    write: Callable[[str, bytes, str], None],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Gives ``write`` (account, PDF, QR payload) of every account with ledger entries (of
    ``keys`` or of ``house`` when given), in account order; returns how many."""
    from adapters.payments.epd import Payer, epd_pdf

    details = await account_details(conn, accounts=keys, house=house)
    if not details:
        return 0
    by_key = {r["key"]: r for r in details}
    chosen = list(by_key) if keys is not None or house is not None else None
    # the document of period P is drawn on the day P is charged (the 1st of the next month)
    day = first_day(month + 1)
    rates = merged(await stored_key_rates(conn))
    until = date.fromordinal(day)
    accounts = await load_accounts(conn, until, chosen)
    items = [a for a in accounts if a.id in by_key and (a.charges or a.payments)]
    accruals: dict[str, list[Any]] = {}
    period = date.fromordinal(first_day(month))
    premises = [by_key[a.id]["premise_id"] for a in items]
    for r in await month_accruals(conn, premises, period):
        accruals.setdefault(r["premise_id"], []).append(r)
    due = due_date(month, SETTINGS.due_day)
    for i, a in enumerate(items):
        try:
            settled = settle(a, day, rates, SETTINGS)
            s = epd_statement(settled, month, rates)
        except LedgerError as exc:
            raise LedgerError(f"account {a.id}: {exc}") from exc
        d = by_key[a.id]
        payer = Payer(
            account=a.id,
            name=f"Собственник (наниматель) помещения {d['premise_id']}",
            address=f"{d['address'] or d['house_id']}, помещение {d['premise_id']}",
            area=_plain(d["area"]),
            residents=d["residents"],
        )
        lines = service_lines(accruals.get(d["premise_id"], []))
        # ~0.2 s of drawing: off the event loop, so the API keeps answering meanwhile
        pdf, qr = await asyncio.to_thread(epd_pdf, payee, payer, s, lines, due)
        write(a.id, pdf, qr)
        if progress is not None:
            progress(i + 1, len(items))
    return len(items)
