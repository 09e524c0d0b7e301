"""ЕПД PDFs per second: N accounts of bench_ledger settled, the figures of the ЕПД of 2026-05
(api/routes/ledger_data.epd_statement) and the PDF with its QR code drawn
(adapters/payments/epd.py), one process, no store.

    python bench/bench_epd.py [--accounts 300] [--seed 1]

``uchet epd`` adds the store reads (one query per kind for the whole batch) and the file
writes; the drawing is what dominates.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.payments.epd import Payer, ServiceLine, epd_pdf
from api.routes.ledger_data import SETTINGS, epd_statement
from bench.bench_ledger import make_accounts
from core.ledger.allocate import settle
from core.ledger.dates import due_date, first_day, month_index
from core.ledger.key_rates import merged
from core.ledger.payment_qr import Payee

PERIOD = month_index(2026, 5)
PAYEE = Payee(
    "ООО «УК Бенчмарк»",
    "6901234567",
    "690101001",
    "40702810900000054321",
    "ПАО СБЕРБАНК",
    "042809679",
    "30101810700000000679",
)
LINES = [
    ServiceLine("Холодная вода", "4.5", "м³", "48.2", 21690),
    ServiceLine("Горячая вода", "3.1", "м³", "245.1", 75981, -1200),
    ServiceLine("Водоотведение", "7.6", "м³", "39.5", 30020),
    ServiceLine("Электроэнергия", "210", "кВт·ч", "6.43", 135030),
    ServiceLine("Отопление", "1.2", "Гкал", "2950.11", 354013),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    accounts = make_accounts(args.accounts, args.seed)
    rates = merged([])
    day = first_day(PERIOD + 1)
    due = due_date(PERIOD, None)
    t0 = time.perf_counter()
    statements = [epd_statement(settle(a, day, rates, SETTINGS), PERIOD, rates) for a in accounts]
    t1 = time.perf_counter()
    size = 0
    for a, s in zip(accounts, statements, strict=True):
        payer = Payer(a.id, "Собственник помещения", "г. Тверь, ул. Советская, д. 10", "54.3", 2)
        pdf, _ = epd_pdf(PAYEE, payer, s, LINES, due)
        size += len(pdf)
    t2 = time.perf_counter()
    n = len(accounts)
    print(f"accounts: {n}")
    print(f"settle + ЕПД figures: {t1 - t0:.2f} s ({n / (t1 - t0):.0f}/s)")
    print(
        f"PDF + QR drawn: {t2 - t1:.2f} s — {n / (t2 - t1):.1f} PDFs/s,"
        f" {size / n / 1024:.1f} KiB each"
    )


if __name__ == "__main__":
    main()
