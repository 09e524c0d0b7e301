"""Debtors: the aging of an account's unpaid period debt by days overdue and the filters of
the operator's list (house, least debt, bucket)."""

from __future__ import annotations

from dataclasses import dataclass

from core.ledger.statement import Statement

BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-30", 30),
    ("31-90", 90),
    ("91-180", 180),
    ("181+", None),
)
"""Aging of a period's debt by its days overdue (from its due date); the top day is inclusive."""
BUCKET_NAMES = tuple(name for name, _ in BUCKETS)


def aging(s: Statement) -> dict[str, int]:
    """The statement's unpaid period debt (kopecks) by days overdue (not yet due: 0–30)."""
    out = dict.fromkeys(BUCKET_NAMES, 0)
    for line in s.periods:
        if line.debt <= 0:
            continue
        for name, top in BUCKETS:
            if top is None or line.delay_days <= top:
                out[name] += line.debt
                break
    return out


@dataclass(frozen=True, slots=True)
class Debtor:
    """One account that owes at the statement date; money in kopecks."""

    account: str
    house: str | None
    address: str | None
    debt: int
    penalty_due: int
    closing_balance: int
    oldest_delay_days: int
    buckets: dict[str, int]


def debtor(account: str, house: str | None, address: str | None, s: Statement) -> Debtor | None:
    """The account as a debtor, or None when it owes neither period debt nor penalty."""
    buckets = aging(s)
    debt = sum(buckets.values())
    penalty_due = max(s.penalty_due, 0)
    if debt <= 0 and penalty_due <= 0:
        return None
    oldest = max((p.delay_days for p in s.periods if p.debt > 0), default=0)
    return Debtor(account, house, address, debt, penalty_due, s.closing_balance, oldest, buckets)


def chosen(debtors: list[Debtor], *, min_debt: int = 0, bucket: str | None = None) -> list[Debtor]:
    """The debtors owing at least ``min_debt`` kopecks (debt plus penalty due) and, with
    ``bucket``, some debt in that bucket."""
    return [
        d
        for d in debtors
        if d.debt + d.penalty_due >= min_debt and (bucket is None or d.buckets[bucket] > 0)
    ]


def totals(debtors: list[Debtor]) -> dict[str, int]:
    """Sums of debt, penalty due and each bucket (kopecks)."""
    out = {"debt": 0, "penalty_due": 0, **dict.fromkeys(BUCKET_NAMES, 0)}
    for d in debtors:
        out["debt"] += d.debt
        out["penalty_due"] += d.penalty_due
        for k, v in d.buckets.items():
            out[k] += v
    return out
