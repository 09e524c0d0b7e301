"""Exact money and rates: kopecks and basis points as Python integers, half-up rounding."""

from __future__ import annotations

import re

from core.ledger.errors import LedgerError

_MONEY = re.compile(r"^(-?)(\d+)\.(\d{2})$")
_RATE = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


def parse_money(value: object, where: str) -> int:
    """``"1234.50"`` → 123450 kopecks; exactly two decimals, as a JSON string."""
    match = _MONEY.match(value) if isinstance(value, str) else None
    if match is None:
        raise LedgerError(f'{where}: {value!r} is not money with exactly two decimals ("12.34")')
    kopecks = int(match.group(2)) * 100 + int(match.group(3))
    return -kopecks if match.group(1) else kopecks


def format_money(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    whole, part = divmod(abs(kopecks), 100)
    return f"{sign}{whole}.{part:02d}"


def parse_rate(value: object, where: str) -> int:
    """A percent (``"17.00"``, ``"9.5"``) → basis points (1700, 950)."""
    match = _RATE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise LedgerError(f"{where}: {value!r} is not a percent with at most two decimals")
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def format_rate(basis_points: int) -> str:
    whole, part = divmod(basis_points, 100)
    return f"{whole}.{part:02d}"


def half_up(num: int, den: int) -> int:
    """round(num / den), halves away from zero (den > 0), exact on integers."""
    q = (2 * abs(num) + den) // (2 * den)
    return -q if num < 0 else q
