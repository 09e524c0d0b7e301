"""The Bank of Russia key rate: the decisions shipped as reference data (day in force, percent).

A decision is taken on a Friday and is in force from the next working day (usually Monday).
Checked on 2026-12-07 against published reports of the decisions, noted per entry ("table":
the entry agrees with three key-rate history tables found in public code, one of them said to
be an export of cbr.ru/hd_base/KeyRate — a secondary source; the Bank's own site was not
reachable from here). Later decisions are added with ``uchet key-rate add DATE PERCENT``
(stored rates take precedence over shipped ones on the same day).

Not shipped because no report of them could be checked here (add them after checking
cbr.ru/hd_base/KeyRate): 2026-03-23 15.00, 2026-04-27 14.50, 2026-06-22 14.25,
2026-07-27 14.00 and any decision after July 2026. Until 2027-01-01 the penalty rate is
capped at 9.5 % (ПП 474 as extended by ПП 329), so none of the rates since 2023-07 changes a
penalty accrued before then; the last rate in force matters from 2027 on.
"""

from __future__ import annotations

from core.ledger.dates import parse_day
from core.ledger.model import KeyRates
from core.ledger.money import parse_rate

SHIPPED: tuple[tuple[str, str], ...] = (
    ("2020-02-10", "6.00"),  # table
    ("2020-04-27", "5.50"),  # table
    ("2020-06-22", "4.50"),  # table; ocenkatruda.ru: «ключевая ставка с 22 июня составит 4,50»
    ("2020-07-27", "4.25"),  # table; eanews.ru 2020-10-23: kept at 4,25
    ("2021-03-22", "4.50"),  # table; vladcons.ru (КонсультантПлюс): «с 22.03.2021 … 4,5%»
    ("2021-04-26", "5.00"),  # table
    ("2021-06-15", "5.50"),  # table
    ("2021-07-26", "6.50"),  # table
    ("2021-09-13", "6.75"),  # table
    ("2021-10-25", "7.50"),  # table
    ("2021-12-20", "8.50"),  # table
    ("2022-02-14", "9.50"),  # table; banks.am: raised «c 28 февраля 2022 года с 9,5 до 20%»
    ("2022-02-28", "20.00"),  # banks.am (RBC), the extraordinary meeting
    ("2022-04-11", "17.00"),  # table
    ("2022-05-04", "14.00"),  # table
    ("2022-05-27", "11.00"),  # table
    ("2022-06-14", "9.50"),  # table
    ("2022-07-25", "8.00"),  # table
    ("2022-09-19", "7.50"),  # table
    ("2023-07-24", "8.50"),  # table; argumentiru.com 2023-09: «с 8,5% до 12%» on 15 August
    ("2023-08-15", "12.00"),  # argumentiru.com: the extraordinary meeting of 15 August 2023
    ("2023-09-18", "13.00"),  # argumentiru.com: raised to 13 % on Friday 15 September 2023
    ("2023-10-30", "15.00"),  # table
    ("2023-12-18", "16.00"),  # table; developyourself.ru 2024-07: kept at 16 % on 7 June 2024
    ("2024-07-29", "18.00"),  # table; ulpressa.ru 2024-12-20: «в июле … с 16% до 18%»
    # missing from the table as first written: its.1c.ru «с 18 до 19 процентов … с 16.09.2024»
    ("2024-09-16", "19.00"),
    ("2024-10-28", "21.00"),  # table; ulpressa.ru 2024-12-20: «в октябре — до 21%», kept
    ("2025-06-09", "20.00"),  # table; vepts.ru: cut to 20 % by the decision of 6 June 2025
    ("2025-07-28", "18.00"),  # table; interfax.ru 2025-10-24 speaks of the rate «с 28 июля»
    ("2025-09-15", "17.00"),  # table; vedomosti.ru 2025-09-12: cut by 100 b.p. to 17 %
    ("2025-10-27", "16.50"),  # 1prime.ru, interfax.ru 2025-10-24: 16,5 % «с 27 октября»
    ("2025-12-22", "16.00"),  # kommersant.ru, vedomosti.ru 2025-12-19: from 16,5 % to 16 %
    ("2026-02-16", "15.50"),  # urogay-smol.ru 2026-02-18: «15,5% годовых начиная с 16 февраля»
)


def shipped_entries() -> list[tuple[int, int]]:
    return [(parse_day(d, "key rate"), parse_rate(p, f"key rate {d}")) for d, p in SHIPPED]


def merged(stored: list[tuple[int, int]]) -> KeyRates:
    """The shipped table with the stored decisions over it (a stored day replaces a shipped one)."""
    table = dict(shipped_entries())
    table.update(stored)
    return KeyRates.of(sorted(table.items()))
