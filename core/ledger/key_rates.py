"""The Bank of Russia key rate: the decisions shipped as reference data (day in force, percent).

Only figures the authors were sure of are listed (2020-02-10 … 2025-10-27); they must be checked
against cbr.ru before use, and later decisions added with ``uchet key-rate add DATE PERCENT``
(stored rates take precedence over shipped ones on the same day).
"""

from __future__ import annotations

from core.ledger.dates import parse_day
from core.ledger.model import KeyRates
from core.ledger.money import parse_rate

SHIPPED: tuple[tuple[str, str], ...] = (
    ("2020-02-10", "6.00"),
    ("2020-04-27", "5.50"),
    ("2020-06-22", "4.50"),
    ("2020-07-27", "4.25"),
    ("2021-03-22", "4.50"),
    ("2021-04-26", "5.00"),
    ("2021-06-15", "5.50"),
    ("2021-07-26", "6.50"),
    ("2021-09-13", "6.75"),
    ("2021-10-25", "7.50"),
    ("2021-12-20", "8.50"),
    ("2022-02-14", "9.50"),
    ("2022-02-28", "20.00"),
    ("2022-04-11", "17.00"),
    ("2022-05-04", "14.00"),
    ("2022-05-27", "11.00"),
    ("2022-06-14", "9.50"),
    ("2022-07-25", "8.00"),
    ("2022-09-19", "7.50"),
    ("2023-07-24", "8.50"),
    ("2023-08-15", "12.00"),
    ("2023-09-18", "13.00"),
    ("2023-10-30", "15.00"),
    ("2023-12-18", "16.00"),
    ("2024-07-29", "18.00"),
    ("2024-10-28", "21.00"),
    ("2025-06-09", "20.00"),
    ("2025-07-28", "18.00"),
    ("2025-09-15", "17.00"),
    ("2025-10-27", "16.50"),
)


def shipped_entries() -> list[tuple[int, int]]:
    return [(parse_day(d, "key rate"), parse_rate(p, f"key rate {d}")) for d, p in SHIPPED]


def merged(stored: list[tuple[int, int]]) -> KeyRates:
    """The shipped table with the stored decisions over it (a stored day replaces a shipped one)."""
    table = dict(shipped_entries())
    table.update(stored)
    return KeyRates.of(sorted(table.items()))
