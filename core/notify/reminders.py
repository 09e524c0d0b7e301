"""Who gets which reminder: pure selection over what the store read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from core.ledger.model import LedgerSettings
from core.ledger.statement import Statement

# ЖК РФ ст. 155 ч. 14: пени с 31-го дня после срока оплаты — the ledger's own setting
GRACE_DAYS = LedgerSettings().grace_days


def window(period: str, first_day: int, last_day: int) -> tuple[str, str]:
    """The reading window of ``period`` (ПП 354 п. 31 «ж»: by default the 23rd to the 25th)."""
    if not 1 <= first_day <= last_day <= 28:
        raise ValueError(f"reading window {first_day}..{last_day}: days must be 1..28, in order")
    year, month = (int(x) for x in period.split("-"))
    return date(year, month, first_day).isoformat(), date(year, month, last_day).isoformat()


def missing_by_account(rows: Iterable[tuple[str, str, str]]) -> dict[str, list[dict[str, str]]]:
    """(account, service, meter) rows of meters without a reading → meters per account."""
    out: dict[str, list[dict[str, str]]] = {}
    for account, service, meter in rows:
        out.setdefault(account, []).append({"service": service, "meter": meter})
    return out


def penalty_from(due: date, grace_days: int = GRACE_DAYS) -> date:
    return due + timedelta(days=grace_days + 1)


def overdue(s: Statement) -> tuple[int, date] | None:
    """The statement's overdue debt: the unpaid debt (kopecks) of the periods past their due
    date only, as core.ledger.claims.Debt.debt (not the aging's total, whose 0–30 bucket holds
    the periods not due yet), and the oldest of those due dates; None when nothing is overdue."""
    lines = [p for p in s.periods if p.debt > 0 and s.day > p.due]
    if not lines:
        return None
    return sum(p.debt for p in lines), date.fromordinal(min(p.due for p in lines))


def debt_params(
    period: str,
    debts: Mapping[str, tuple[int, date]],
    threshold_kopecks: int,
    grace_days: int = GRACE_DAYS,
) -> dict[str, dict[str, Any]]:
    """account → params of the debt message, for overdue debts (kopecks, oldest unpaid due
    date) strictly above the threshold."""
    return {
        account: {
            "period": period,
            "debt": f"{kopecks // 100}.{kopecks % 100:02d}",
            "penalty_from": penalty_from(due, grace_days).isoformat(),
        }
        for account, (kopecks, due) in debts.items()
        if kopecks > threshold_kopecks
    }
