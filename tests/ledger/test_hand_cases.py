"""Cases worked out by hand against spec/ledger-case.md; the arithmetic is in the comments.

Rates below the 9.5 % cap keep the hand sums short (6 % a year is 0.60 ₽ a day on 3000 ₽ at
1/300) except where the cap itself is the point.
"""

from __future__ import annotations

from typing import Any

from core.ledger import ledger_case


def _case(
    account: dict[str, Any],
    *,
    as_of: str,
    statements: list[str],
    key_rates: list[list[str]] | None = None,
    settings: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    doc: dict[str, Any] = {
        "as_of": as_of,
        "statements": statements,
        "key_rates": key_rates or [["2025-01-01", "6.00"]],
        "accounts": [{"id": "A1", **account}],
    }
    if settings is not None:
        doc["settings"] = settings
    statements_out: list[dict[str, Any]] = ledger_case(doc)["accounts"][0]["statements"]
    return statements_out


def _alloc(payment: str, date: str, period: str, amount: str, to: str = "charges") -> Any:
    return {"payment": payment, "date": date, "period": period, "amount": amount, "to": to}


def test_payment_naming_a_period() -> None:
    # pa names 2026-02 although 2026-01 is older; pb names 2026-02, pays its rest (1500) and
    # the other 1000 goes to the oldest debt; pc names 2026-01, already paid: all of it is a
    # payment without a period, and with no debt left it is an advance
    (march,) = _case(
        {
            "charges": [["2026-01", "1000.00"], ["2026-02", "2000.00"]],
            "payments": [
                {"id": "pa", "date": "2026-03-05", "amount": "500.00", "period": "2026-02"},
                {"id": "pb", "date": "2026-03-06", "amount": "2500.00", "period": "2026-02"},
                {"id": "pc", "date": "2026-03-07", "amount": "100.00", "period": "2026-01"},
            ],
        },
        as_of="2026-03-31",
        statements=["2026-03"],
    )
    assert march["allocations"] == [
        _alloc("pa", "2026-03-05", "2026-02", "500.00"),
        _alloc("pb", "2026-03-06", "2026-02", "1500.00"),
        _alloc("pb", "2026-03-06", "2026-01", "1000.00"),
    ]
    assert (march["opening_balance"], march["charged"], march["paid"]) == (
        "1000.00",
        "2000.00",
        "3100.00",
    )
    assert (march["closing_balance"], march["advance"]) == ("-100.00", "100.00")
    # 2026-01 was paid on day 24 of its delay (due 02-10): no penalty, no debt, not listed
    assert march["periods"] == []


def test_advances_pay_later_charges_oldest_advance_first() -> None:
    jan, feb = _case(
        {
            "charges": [["2026-01", "1000.00"]],
            "payments": [
                {"id": "p2", "date": "2026-01-25", "amount": "900.00"},
                {"id": "p1", "date": "2026-01-20", "amount": "300.00"},
            ],
        },
        as_of="2026-02-28",
        statements=["2026-01", "2026-02"],
    )
    assert (jan["paid"], jan["closing_balance"], jan["advance"]) == (
        "1200.00",
        "-1200.00",
        "1200.00",
    )
    assert jan["allocations"] == []
    # charged on 02-01: the older advance (p1, 300) first, then 700 of p2
    assert feb["allocations"] == [
        _alloc("p1", "2026-02-01", "2026-01", "300.00"),
        _alloc("p2", "2026-02-01", "2026-01", "700.00"),
    ]
    assert (feb["opening_balance"], feb["charged"], feb["paid"]) == (
        "-1200.00",
        "1000.00",
        "0.00",
    )
    assert (feb["closing_balance"], feb["advance"]) == ("-200.00", "200.00")


def test_a_credit_pays_the_oldest_debt_and_its_rest_is_an_advance() -> None:
    march, april = _case(
        {"charges": [["2026-01", "1000.00"], ["2026-02", "-1500.00"], ["2026-03", "800.00"]]},
        as_of="2026-04-30",
        statements=["2026-03", "2026-04"],
    )
    assert march["allocations"] == [_alloc("credit:2026-02", "2026-03-01", "2026-01", "1000.00")]
    assert (march["opening_balance"], march["charged"], march["paid"]) == (
        "1000.00",
        "-1500.00",
        "0.00",
    )
    assert (march["closing_balance"], march["advance"]) == ("-500.00", "500.00")
    assert april["allocations"] == [_alloc("credit:2026-02", "2026-04-01", "2026-03", "500.00")]
    assert (april["closing_balance"], april["advance"]) == ("300.00", "0.00")
    assert april["periods"] == [
        {
            "period": "2026-03",
            "due": "2026-04-15",
            "charge": "800.00",
            "paid": "500.00",
            "debt": "300.00",
            "delay_days": 15,
            "penalty_total": "0.00",
            "penalty_month": "0.00",
        }
    ]


def _penalty_at(as_of: str, settings: dict[str, Any] | None = None) -> tuple[str, int]:
    # 2025-12 is due on 2026-01-10 (the 10th up to period 2026-01); 3000 ₽ unpaid at 6 %
    (s,) = _case(
        {"opening_debt": [["2025-12", "3000.00"]]},
        as_of=as_of,
        statements=[as_of[:7]],
        settings=settings,
    )
    (line,) = s["periods"]
    assert line["due"] == "2026-01-10"
    assert s["penalty_total"] == line["penalty_total"]
    return line["penalty_total"], line["delay_days"]


def test_the_31st_and_91st_days() -> None:
    assert _penalty_at("2026-02-09") == ("0.00", 30)  # days 1…30: nothing
    assert _penalty_at("2026-02-10") == ("0.60", 31)  # 3000 × 6 % / 300
    assert _penalty_at("2026-04-10") == ("36.00", 90)  # 60 days × 0.60
    # day 91 at 1/130: 36 + 3000 × 0.06 / 130 = 37.3846…
    assert _penalty_at("2026-04-11") == ("37.38", 91)


def test_a_moratorium_stops_the_penalty_but_not_the_count_of_days() -> None:
    settings = {"moratoria": [["2026-02-15", "2026-03-01"]]}
    # 02-10 … 03-31 is 50 days at 1/300 less the 14 days 02-15 … 02-28: 36 × 0.60 = 21.60
    assert _penalty_at("2026-03-31", settings) == ("21.60", 80)
    # day 91 is still 04-11: (60 − 14) × 0.60 + 20 × 180 / 130 = 27.60 + 27.6923… = 55.29
    assert _penalty_at("2026-04-30", settings) == ("55.29", 110)
    assert _penalty_at("2026-04-30") == ("63.69", 110)  # 36.00 + 27.6923…


def test_the_rate_of_the_payment_day_applies_to_every_day_of_that_money() -> None:
    feb, march = _case(
        {
            "opening_debt": [["2025-12", "3000.00"]],
            "payments": [{"id": "p", "date": "2026-03-20", "amount": "3000.00"}],
        },
        as_of="2026-03-31",
        statements=["2026-02", "2026-03"],
        key_rates=[["2025-01-01", "8.00"], ["2026-03-01", "7.00"]],
    )
    # as of 02-28 unpaid, at the rate of 02-28 (8 %): 19 days × 3000 × 0.08 / 300 = 15.20
    assert feb["penalty_total"] == "15.20"
    # paid on 03-20 at 7 %: all 39 days 02-10 … 03-20 at 7 %: 3000 × 0.07 × 39 / 300 = 27.30
    (line,) = march["periods"]
    assert (line["debt"], line["delay_days"]) == ("0.00", 69)
    assert (line["penalty_total"], line["penalty_month"]) == ("27.30", "12.10")
    assert (march["penalty_total"], march["penalty_month"]) == ("27.30", "12.10")


def test_the_9_5_percent_cap_ends_on_1_january_2027() -> None:
    dec, jan = _case(
        {
            "charges": [["2026-09", "1000.00"]],
            "payments": [{"id": "p", "date": "2026-12-10", "amount": "400.00"}],
        },
        as_of="2027-01-31",
        statements=["2026-12", "2027-01"],
        key_rates=[["2026-01-01", "16.00"]],
    )
    # due 2026-10-15, day 31 = 11-15, day 91 = 2027-01-14. The 400 paid on 12-10 (capped,
    # 9.5 %) counts 26 days: 400 × 0.095 × 26 / 300 = 3.29333…
    # as of 12-31 the unpaid 600 at the capped rate of 12-31, 47 days: 600 × 0.095 × 47 / 300
    # = 8.93; total 12.22333… → 12.22
    assert dec["penalty_total"] == "12.22"
    # as of 2027-01-31 the unpaid 600 at the uncapped 16 %: 60 days at 1/300 and 18 at 1/130:
    # 96 × (0.2 + 18 / 130) = 32.49230…; with the 3.29333… of the 400: 35.78564 → 35.79
    assert (jan["penalty_total"], jan["penalty_month"]) == ("35.79", "23.57")
    (line,) = jan["periods"]
    assert (line["debt"], line["delay_days"]) == ("600.00", 108)


def test_a_payment_to_the_penalty_pays_the_accrued_penalty_first() -> None:
    (march,) = _case(
        {
            "opening_debt": [["2025-12", "3000.00"]],
            "payments": [{"id": "p", "date": "2026-03-01", "amount": "20.00", "to": "penalty"}],
        },
        as_of="2026-03-31",
        statements=["2026-03"],
    )
    # as of 03-01 (day 50): 20 days × 0.60 = 12.00 of penalty; the other 8.00 pays the debt
    assert march["allocations"] == [
        _alloc("p", "2026-03-01", "2025-12", "12.00", "penalty"),
        _alloc("p", "2026-03-01", "2025-12", "8.00"),
    ]
    assert (march["paid"], march["penalty_paid"]) == ("8.00", "12.00")
    # as of 03-31: 8.00 paid on 03-01 counts 20 days (8 × 0.06 × 20 / 300 = 0.032), the 2992
    # unpaid 50 days (2992 × 0.06 × 50 / 300 = 29.92): 29.952 → 29.95
    assert (march["penalty_total"], march["penalty_due"]) == ("29.95", "17.95")
