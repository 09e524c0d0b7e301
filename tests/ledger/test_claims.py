"""The claims workflow's pure rules: stages only forward (a writ only after the court), dates not
before the previous stage nor in the future, closing only when paid (or written off with the
grounds); the debt and penalty snapshot and the penalty parts are the ledger's own figures."""

from __future__ import annotations

import pytest

from core.ledger.allocate import settle
from core.ledger.case import parse_account, parse_key_rates
from core.ledger.claims import (
    CLOSED,
    ClaimError,
    Debt,
    advance_event,
    close_event,
    debt_as_of,
    next_stages,
    open_event,
)
from core.ledger.dates import day_name, due_date, parse_day, parse_period
from core.ledger.errors import LedgerError
from core.ledger.model import CHARGES, LedgerSettings
from core.ledger.money import half_up, parse_typed_rubles
from core.ledger.penalty import DENOMINATOR, numerator
from core.ledger.statement import statement

RATES = [["2025-06-09", "20.00"], ["2025-07-28", "18.00"], ["2026-03-02", "8.00"]]
NO_CAP = LedgerSettings(cap_bp=None)


def _account(payments: list[dict[str, str]] | None = None, as_of: str = "2026-09-30") -> object:
    return parse_account(
        {
            "id": "100001",
            "opening_debt": [["2025-10", "1500.00"]],
            "charges": [["2025-12", "3210.44"], ["2026-01", "2987.10"], ["2026-02", "-120.00"]],
            "payments": payments
            or [
                {"id": "p1", "date": "2026-01-20", "amount": "1000.00"},
                {"id": "p2", "date": "2026-04-03", "amount": "2500.00", "period": "2025-12"},
            ],
        },
        0,
        parse_day(as_of, "as_of"),
        set(),
    )


def _debt(day: str, settings: LedgerSettings = NO_CAP, **kw: object) -> Debt:
    d = parse_day(day, "day")
    rates = parse_key_rates(RATES)
    return debt_as_of(settle(_account(**kw), d, rates, settings), d, rates, settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("settings", [NO_CAP, LedgerSettings()])
@pytest.mark.parametrize("day", ["2026-01-31", "2026-03-20", "2026-04-03", "2026-08-15"])
def test_the_snapshot_is_the_ledgers_statement(day: str, settings: LedgerSettings) -> None:
    d = parse_day(day, "day")
    rates = parse_key_rates(RATES)
    settled = settle(_account(), d, rates, settings)  # type: ignore[arg-type]
    debt = debt_as_of(settled, d, rates, settings)
    s = statement(settled, parse_period(day[:7], "m"), d, rates, settings)
    assert debt.penalty_total == s.penalty_total and debt.penalty_paid == s.penalty_paid
    assert debt.penalty_total == sum(line.penalty for line in debt.lines)
    for line in s.periods:  # every period the statement shows, with the same figures
        (mine,) = [m for m in debt.lines if m.period == line.period]
        assert (mine.debt, mine.penalty, mine.delay_days) == (
            line.debt,
            line.penalty_total,
            line.delay_days,
        )
    overdue = sum(p.debt for p in s.periods if p.debt > 0 and d > p.due)
    assert debt.debt == overdue


@pytest.mark.parametrize("day", ["2026-03-20", "2026-04-03", "2026-08-15"])
def test_the_penalty_parts_add_up_to_the_ledgers_exact_penalty(day: str) -> None:
    """Each period's parts (per payment day and share) sum to the ledger's exact numerator."""
    d = parse_day(day, "day")
    rates = parse_key_rates(RATES)
    settled = settle(_account(), d, rates, NO_CAP)  # type: ignore[arg-type]
    debt = debt_as_of(settled, d, rates, NO_CAP)
    assert any(line.parts for line in debt.lines)
    for line in debt.lines:
        paid = [(a.day, a.amount) for a in settled.allocations
                if a.period == line.period and a.to == CHARGES and a.day <= d]  # fmt: skip
        exact = numerator(line.charge, line.due, paid, d, rates, NO_CAP)
        assert sum(p.numerator for p in line.parts) == exact
        assert half_up(exact, DENOMINATOR) == line.penalty
        for p in line.parts:
            assert p.share in (300, 130) and p.days > 0 and p.first <= p.last
            assert p.rate_bp == rates.rate(d if p.paid_on is None else p.paid_on, NO_CAP)
            if p.share == 300:
                assert p.first == line.due + 31
            else:
                assert p.first == line.due + 91
            assert p.days == p.last - p.first + 1  # no moratorium here


def test_a_part_paid_later_takes_the_rate_of_its_payment_day() -> None:
    """October (1500.00, due 2025-11-10): p1 pays 1000.00 on 2026-01-20 (day 71: 1/300 only, at
    18 %), February's credit 120.00 on 2026-03-01 (day 111: both shares, still 18 %), and the
    380.00 left unpaid takes the 8 % in force on the settlement date."""
    debt = _debt("2026-08-15")
    (october,) = [line for line in debt.lines if line.period == parse_period("2025-10", "p")]
    assert october.debt == 38000
    got = sorted(
        (day_name(p.paid_on) if p.paid_on else "-", p.amount, p.share, p.rate_bp)
        for p in october.parts
    )
    assert got == [
        ("-", 38000, 130, 800),
        ("-", 38000, 300, 800),
        ("2026-01-20", 100000, 300, 1800),
        ("2026-03-01", 12000, 130, 1800),
        ("2026-03-01", 12000, 300, 1800),
    ]
    (p1,) = [p for p in october.parts if p.amount == 100000]
    assert (day_name(p1.first), day_name(p1.last), p1.days) == ("2025-12-11", "2026-01-20", 41)


def test_a_claim_opens_only_on_an_overdue_debt_and_moves_only_forward() -> None:
    today = parse_day("2026-06-30", "today")
    debt = _debt("2026-05-04")
    notice = open_event(debt, debt.day, today, " first letter ")
    assert (notice.stage, notice.debt, notice.penalty) == ("notice", debt.debt, debt.penalty_due)
    assert notice.note == "first letter" and debt.debt > 0
    history = [notice]
    assert next_stages(history) == ["warning", "lawyers", "court"]  # no writ without a court
    with pytest.raises(ClaimError, match="только после суда") as err:
        advance_event(history, "writ", debt, debt.day, today)
    assert err.value.kind == "conflict"
    with pytest.raises(ClaimError, match="только вперёд"):
        advance_event(history, "notice", debt, debt.day, today)
    with pytest.raises(ClaimError, match="неизвестен"):
        advance_event(history, "jail", debt, debt.day, today)
    with pytest.raises(ClaimError, match="раньше даты предыдущего этапа"):
        advance_event(history, "warning", debt, debt.day - 1, today)
    with pytest.raises(ClaimError, match="ещё не наступила"):
        advance_event(history, "warning", debt, today + 1, today)
    later = _debt("2026-06-01")
    court = advance_event(history, "court", later, later.day, today, "дело 2-1/2026")
    assert court.debt == later.debt and court.penalty == later.penalty_due
    assert court.penalty > notice.penalty  # the penalty grows while the debt is unpaid
    history.append(court)
    assert next_stages(history) == ["writ"]
    with pytest.raises(ClaimError, match="только вперёд"):
        advance_event(history, "warning", later, later.day, today)
    history.append(advance_event(history, "writ", later, later.day, today))
    assert next_stages(history) == []


def test_closing_needs_the_debt_paid_or_grounds_to_write_it_off() -> None:
    today = parse_day("2026-12-31", "today")
    debt = _debt("2026-05-04")
    history = [open_event(debt, debt.day, today)]
    with pytest.raises(ClaimError, match="долг не погашен"):
        close_event(history, "paid", debt, debt.day, today)
    with pytest.raises(ClaimError, match="основание"):
        close_event(history, "written_off", debt, debt.day, today, "  ")
    with pytest.raises(ClaimError, match="неизвестна"):
        close_event(history, "forgiven", debt, debt.day, today)
    payments = [{"id": "all", "date": "2026-06-01", "amount": "9000.00"}]
    paid = _debt("2026-06-01", payments=payments)
    assert paid.debt == 0
    closed = close_event(history, "paid", paid, paid.day, today, "оплачено")
    assert (closed.stage, closed.reason, closed.debt) == (CLOSED, "paid", 0)
    history.append(closed)
    assert next_stages(history) == []
    with pytest.raises(ClaimError, match="закрыта"):
        advance_event(history, "court", paid, paid.day, today)
    with pytest.raises(ClaimError, match="уже закрыта"):
        close_event(history, "paid", paid, paid.day, today)
    off = close_event(history[:1], "written_off", debt, debt.day, today, "решение суда")
    assert off.reason == "written_off" and off.debt == debt.debt


def test_no_claim_without_an_overdue_debt_and_notes_are_checked() -> None:
    # on 2026-01-05 December's charge is not yet due (due 2026-01-10): no overdue debt after p1
    payments = [{"id": "p1", "date": "2025-11-05", "amount": "1500.00"}]
    debt = _debt("2026-01-05", payments=payments)
    assert debt.debt == 0 and any(line.debt > 0 for line in debt.lines)
    with pytest.raises(ClaimError, match="нет просроченного долга") as err:
        open_event(debt, debt.day, debt.day)
    assert err.value.kind == "conflict"
    owing = _debt("2026-05-04")
    with pytest.raises(ClaimError, match="длиннее"):
        open_event(owing, owing.day, owing.day, "x" * 1001)
    with pytest.raises(ClaimError, match="управляющие"):
        open_event(owing, owing.day, owing.day, "a\x00b")
    assert day_name(due_date(parse_period("2025-12", "p"), None)) == "2026-01-10"


@pytest.mark.parametrize(
    ("typed", "kopecks"),
    [("1500", 150000), ("1 500,5", 150050), ("1\u00a0500.50", 150050), ("0,07", 7), ("12.", 1200)],
)
def test_rubles_as_typed(typed: str, kopecks: int) -> None:
    assert parse_typed_rubles(typed, "min_debt") == kopecks


@pytest.mark.parametrize(
    ("typed", "why"),
    [("1500,505", "more than two decimals"), ("-5", "below zero"), ("", "not rubles"),
     ("1e3", "not rubles"), ("1.2.3", "not rubles"), (",50", "not rubles"), ("٣", "not rubles"),
     ("9" * 5000, "too large")],
)  # fmt: skip
def test_rubles_as_typed_refused(typed: str, why: str) -> None:
    with pytest.raises(LedgerError, match=f"min_debt: .* {why}"):
        parse_typed_rubles(typed, "min_debt")
