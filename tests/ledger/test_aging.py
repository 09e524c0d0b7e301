"""The debtors' aging and the collection rate in the pure core: the bucket edges (30/31,
90/91, 180/181 days overdue), what makes an account a debtor, the filters, and paid / charged
with credits and advances, rounded half-up to hundredths of a percent."""

from __future__ import annotations

from core.ledger.aging import BUCKET_NAMES, aging, chosen, debtor, totals
from core.ledger.allocate import settle
from core.ledger.collection import Collected, collected
from core.ledger.dates import due_date, month_index
from core.ledger.key_rates import merged
from core.ledger.model import Account, LedgerSettings, Payment
from core.ledger.statement import statement

S = LedgerSettings()
RATES = merged([])
JAN, FEB, MAR = month_index(2026, 1), month_index(2026, 2), month_index(2026, 3)


def _aging_on(days_overdue: int) -> dict[str, int]:
    due = due_date(JAN, None)  # 2026-02-10
    s = statement(settle(Account("a", {JAN: 1000}), due + days_overdue, RATES, S), MAR,
                  due + days_overdue, RATES, S)  # fmt: skip
    return aging(s)


def test_bucket_edges() -> None:
    for days, bucket in ((0, "0-30"), (30, "0-30"), (31, "31-90"), (90, "31-90"),
                         (91, "91-180"), (180, "91-180"), (181, "181+")):  # fmt: skip
        got = _aging_on(days)
        assert got[bucket] == 1000, (days, got)
        assert sum(got.values()) == 1000


def test_who_is_a_debtor_and_the_filters() -> None:
    day = due_date(FEB, None) + 40  # 2026-04-24: January (due 10.02) 73 days, February 40
    charges = {JAN: 50000, FEB: 30000}
    paid_up = Account("paid", charges, (Payment("p", due_date(JAN, None), 80000),))
    owing = Account("owing", charges)
    partly = Account("partly", charges, (Payment("q", due_date(JAN, None), 60000),))
    found = []
    for a in (paid_up, owing, partly):
        s = statement(settle(a, day, RATES, S), MAR, day, RATES, S)
        d = debtor(a.id, "h1", None, s)
        if d is not None:
            found.append(d)
    assert [d.account for d in found] == ["owing", "partly"]
    owing_d, partly_d = found
    assert owing_d.buckets == {"0-30": 0, "31-90": 80000, "91-180": 0, "181+": 0}
    assert owing_d.oldest_delay_days == 73 and owing_d.penalty_due > 0
    assert partly_d.debt == 20000 and partly_d.buckets["31-90"] == 20000
    assert [d.account for d in chosen(found, min_debt=50000)] == ["owing"]
    assert [d.account for d in chosen(found, bucket="91-180")] == []
    sums = totals(found)
    assert sums["debt"] == 100000 and sums["31-90"] == 100000
    assert set(BUCKET_NAMES) <= set(sums)


def test_collection_counts_allocations_to_each_period_by_the_day() -> None:
    # January 1000.00 and February 3000.00; a credit of 500.00 in March's charge pays the
    # oldest debt on 2026-04-01; a payment of 1200.00 on 2026-03-05 pays January then 200 of
    # February; a payment after the report day does not count.
    account = Account(
        "a",
        {JAN: 100000, FEB: 300000, MAR: -50000},
        (Payment("p1", due_date(JAN, None) + 23, 120000), Payment("p2", 740000, 999)),
    )
    day = due_date(MAR, None)  # 2026-04-15
    got = collected(settle(account, day, RATES, S), [JAN, FEB, MAR, MAR + 1], day)
    assert sorted(got) == [JAN, FEB, MAR]  # April is not charged by then
    assert (got[JAN].charged, got[JAN].paid) == (100000, 100000)
    assert (got[FEB].charged, got[FEB].paid) == (300000, 20000 + 50000)
    assert got[MAR].charged == 0 and got[MAR].rate_bp is None
    assert got[JAN].rate_bp == 10000 and got[FEB].rate_bp == 2333  # 70000 / 300000 = 23.333…
    assert Collected(3, 2).rate_bp == 6667  # 66.666… half-up
    assert Collected(8, 1).rate_bp == 1250  # 12.5 exactly
    assert Collected(200000, 1).rate_bp == 0  # 0.0005 % rounds down; 0.005 % would round up
    assert Collected(20000, 1).rate_bp == 1
