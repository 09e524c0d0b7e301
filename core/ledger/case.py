"""The JSON ledger case (spec/ledger-case.md): a decoded document in, the spec's output out.

Pure: takes the decoded JSON value, never a file; every error names what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.ledger.allocate import settle
from core.ledger.dates import (
    day_name,
    last_day,
    parse_day,
    parse_period,
    period_name,
)
from core.ledger.errors import LedgerError
from core.ledger.model import (
    CHARGES,
    DEFAULT_CAP_BP,
    DEFAULT_CAP_UNTIL,
    PENALTY,
    Account,
    KeyRates,
    LedgerSettings,
    Payment,
    Settled,
)
from core.ledger.money import format_money, parse_money, parse_rate
from core.ledger.statement import Statement, statement

_TOP = {"as_of", "statements", "settings", "key_rates", "accounts"}
_SETTINGS = {"due_day", "grace_days", "second_stage_day", "rate_cap", "moratoria"}
_ACCOUNT = {"id", "opening_debt", "charges", "payments"}
_PAYMENT = {"id", "date", "amount", "period", "to"}


def _object(value: object, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise LedgerError(f"{where}: expected an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise LedgerError(f"{where}: unknown field {unknown[0]!r}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise LedgerError(f"{where}: expected a list")
    return value


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(f"{where}: {value!r} is not an integer")
    return value


def _pair(value: object, where: str) -> tuple[Any, Any]:
    items = _list(value, where)
    if len(items) != 2:
        raise LedgerError(f"{where}: expected a pair [first, second]")
    return items[0], items[1]


def parse_settings(value: object) -> LedgerSettings:
    s = _object({} if value is None else value, "settings", _SETTINGS)
    due_day = s.get("due_day")
    cap_bp: int | None = DEFAULT_CAP_BP
    cap_until = DEFAULT_CAP_UNTIL
    if "rate_cap" in s:
        if s["rate_cap"] is None:
            cap_bp = None
        else:
            cap = _object(s["rate_cap"], "settings.rate_cap", {"percent", "until"})
            cap_bp = parse_rate(cap.get("percent"), "settings.rate_cap.percent")
            cap_until = parse_day(cap.get("until"), "settings.rate_cap.until")
    moratoria = []
    for i, item in enumerate(_list(s.get("moratoria", []), "settings.moratoria")):
        where = f"settings.moratoria[{i}]"
        lo, hi = _pair(item, where)
        moratoria.append((parse_day(lo, where), parse_day(hi, where)))
    return LedgerSettings(
        due_day=None if due_day is None else _int(due_day, "settings.due_day"),
        grace_days=_int(s.get("grace_days", 30), "settings.grace_days"),
        second_stage_day=_int(s.get("second_stage_day", 91), "settings.second_stage_day"),
        cap_bp=cap_bp,
        cap_until=cap_until,
        moratoria=tuple(moratoria),
    )


def parse_key_rates(value: object) -> KeyRates:
    entries = []
    for i, item in enumerate(_list(value, "key_rates")):
        where = f"key_rates[{i}]"
        day, rate = _pair(item, where)
        entries.append((parse_day(day, where), parse_rate(rate, where)))
    if not entries:
        raise LedgerError("key_rates: at least one key rate is needed")
    return KeyRates.of(entries)


def _payment(value: object, where: str, as_of: int) -> Payment:
    p = _object(value, where, _PAYMENT)
    pid = p.get("id")
    if not isinstance(pid, str) or not pid:
        raise LedgerError(f"{where}: id {pid!r} is not a non-empty string")
    where = f"payment {pid}"
    day = parse_day(p.get("date"), f"{where}: date")
    if day > as_of:
        raise LedgerError(f"{where}: date {day_name(day)} is after as_of {day_name(as_of)}")
    amount = parse_money(p.get("amount"), f"{where}: amount")
    if amount <= 0:
        raise LedgerError(f"{where}: amount {p.get('amount')} is not above zero")
    period = p.get("period")
    to = p.get("to", CHARGES)
    if to not in (CHARGES, PENALTY):
        raise LedgerError(f"{where}: to {to!r} is neither 'charges' nor 'penalty'")
    return Payment(
        id=pid,
        day=day,
        amount=amount,
        period=None if period is None else parse_period(period, f"{where}: period"),
        to=to,
    )


def parse_account(value: object, index: int, as_of: int, seen: set[str]) -> Account:
    a = _object(value, f"accounts[{index}]", _ACCOUNT)
    aid = a.get("id")
    if not isinstance(aid, str) or not aid:
        raise LedgerError(f"accounts[{index}]: id {aid!r} is not a non-empty string")
    where = f"account {aid}"
    charges: dict[int, int] = {}
    for key in ("opening_debt", "charges"):
        for i, item in enumerate(_list(a.get(key, []), f"{where}: {key}")):
            at = f"{where}: {key}[{i}]"
            raw_period, raw_amount = _pair(item, at)
            period = parse_period(raw_period, at)
            if period in charges:
                raise LedgerError(f"{where}: period {period_name(period)} is given twice")
            charges[period] = parse_money(raw_amount, f"{at} ({period_name(period)})")
    payments = []
    for i, item in enumerate(_list(a.get("payments", []), f"{where}: payments")):
        p = _payment(item, f"{where}: payments[{i}]", as_of)
        if p.id in seen:
            raise LedgerError(f"{where}: payment {p.id} is given twice")
        seen.add(p.id)
        payments.append(p)
    return Account(aid, charges, tuple(payments))


def statement_json(s: Statement, settled: Settled) -> dict[str, Any]:
    m = format_money
    return {
        "month": period_name(s.month),
        "date": day_name(s.day),
        "opening_balance": m(s.opening_balance),
        "charged": m(s.charged),
        "paid": m(s.paid),
        "closing_balance": m(s.closing_balance),
        "periods": [
            {
                "period": period_name(p.period),
                "due": day_name(p.due),
                "charge": m(p.charge),
                "paid": m(p.paid),
                "debt": m(p.debt),
                "delay_days": p.delay_days,
                "penalty_total": m(p.penalty_total),
                "penalty_month": m(p.penalty_month),
            }
            for p in s.periods
        ],
        "penalty_month": m(s.penalty_month),
        "penalty_total": m(s.penalty_total),
        "penalty_paid": m(s.penalty_paid),
        "penalty_due": m(s.penalty_due),
        "allocations": [
            {
                "payment": a.payment,
                "date": day_name(a.day),
                "period": period_name(a.period),
                "amount": m(a.amount),
                "to": a.to,
            }
            for a in (settled.allocations[i] for i in s.allocations)
        ],
        "advance": m(s.advance),
    }


def ledger_case(doc: object) -> dict[str, Any]:
    """Settles a ledger case document; returns the spec's output object."""
    top = _object(doc, "case", _TOP)
    as_of = parse_day(top.get("as_of"), "as_of")
    settings = parse_settings(top.get("settings"))
    rates = parse_key_rates(top.get("key_rates"))
    months = []
    for i, item in enumerate(_list(top.get("statements", []), "statements")):
        month = parse_period(item, f"statements[{i}]")
        if last_day(month - 1) >= as_of:
            raise LedgerError(f"statements[{i}]: month {item} is after as_of {day_name(as_of)}")
        months.append(month)
    seen_payments: set[str] = set()
    seen_accounts: set[str] = set()
    out = []
    for i, item in enumerate(_list(top.get("accounts", []), "accounts")):
        account = parse_account(item, i, as_of, seen_payments)
        if account.id in seen_accounts:
            raise LedgerError(f"account {account.id}: given twice")
        seen_accounts.add(account.id)
        out.append(settle_statements(account, months, as_of, rates, settings))
    return {"accounts": out}


def settle_statements(
    account: Account, months: list[int], as_of: int, rates: KeyRates, settings: LedgerSettings
) -> dict[str, Any]:
    """One account's output object: its statements for ``months`` as of ``as_of``."""
    try:
        settled = settle(account, as_of, rates, settings)
        statements = [
            statement(settled, month, min(last_day(month), as_of), rates, settings)
            for month in months
        ]
    except LedgerError as exc:
        raise LedgerError(f"account {account.id}: {exc}") from exc
    return {"id": account.id, "statements": [statement_json(s, settled) for s in statements]}
