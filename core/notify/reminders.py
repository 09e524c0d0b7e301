"""Who gets which reminder: pure selection over what the store read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

PENALTY_GRACE_DAYS = 30  # ЖК РФ ст. 155 ч. 14: пени с 31-го дня после срока оплаты


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


def penalty_from(due: date) -> date:
    return due + timedelta(days=PENALTY_GRACE_DAYS + 1)


def debt_params(
    period: str, debts: Mapping[str, tuple[int, date]], threshold_kopecks: int
) -> dict[str, dict[str, Any]]:
    """account → params of the debt message, for debts (kopecks, oldest unpaid due date)
    strictly above the threshold."""
    return {
        account: {
            "period": period,
            "debt": f"{kopecks // 100}.{kopecks % 100:02d}",
            "penalty_from": penalty_from(due).isoformat(),
        }
        for account, (kopecks, due) in debts.items()
        if kopecks > threshold_kopecks
    }
