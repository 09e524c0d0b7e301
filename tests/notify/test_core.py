"""Pure parts of notifications: templates, webhook signatures, retry schedule, selection."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core.ledger.aging import aging
from core.ledger.model import LedgerSettings
from core.ledger.statement import PeriodLine, Statement
from core.notify.backoff import RetryPolicy
from core.notify.kinds import (
    DEBT,
    DEVICE_OFFLINE,
    EMAIL_CONFIRM,
    EPD_READY,
    HOUSE_BALANCE,
    READING_RECEIVED,
    READING_WINDOW_CLOSES,
    READING_WINDOW_OPEN,
    check_email,
)
from core.notify.reminders import debt_params, missing_by_account, overdue, penalty_from, window
from core.notify.signing import (
    check_confirm_token,
    confirm_token,
    idempotency_key,
    signature,
    verify,
)
from core.notify.templates import render
from core.notify.throttle import DomainLimiter, domain_of


def test_reading_window_text_and_html_escape() -> None:
    r = render(
        READING_WINDOW_OPEN,
        {
            "period": "2026-03",
            "window_from": "2026-03-23",
            "window_to": "2026-03-25",
            "meters": [{"service": "hot_water", "meter": "<m1>"}],
        },
    )
    assert r.subject == "Передайте показания счётчиков за март 2026"
    assert "с 23.03.2026 по 25.03.2026" in r.text
    assert "горячая вода: счётчик <m1>" in r.text
    assert "&lt;m1&gt;" in r.html and "<m1>" not in r.html


def test_debt_text_and_missing_params_refused() -> None:
    r = render(DEBT, {"period": "2026-03", "debt": "1234.50", "penalty_from": "2026-05-11"})
    assert "1234.50 ₽" in r.subject and "С 11.05.2026 начисляются пени" in r.text
    assert "Просроченная задолженность" in r.subject
    assert "просроченная задолженность (не оплаченная в срок) составляет 1234.50 ₽" in r.text
    with pytest.raises(ValueError, match="missing penalty_from"):
        render(DEBT, {"period": "2026-03", "debt": "1"})
    with pytest.raises(ValueError, match="unknown notification kind"):
        render("spam", {})


def test_signature_verifies_and_rejects_tampering_and_replay() -> None:
    body = b'{"a": 1}'
    sig = signature(b"s3cret", 1000, body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify(b"s3cret", "1000", body, sig, now=1100)
    assert not verify(b"s3cret", "1000", body + b" ", sig, now=1100)
    assert not verify(b"other", "1000", body, sig, now=1100)
    assert not verify(b"s3cret", "1000", body, sig, now=2000)  # too old
    assert idempotency_key("a", DEBT, "2026-03", "email") == idempotency_key(
        "a", DEBT, "2026-03", "email"
    )
    assert idempotency_key("a", DEBT, "2026-03", "email") != idempotency_key(
        "a", DEBT, "2026-04", "email"
    )


def test_backoff_doubles_caps_and_dead_letters() -> None:
    p = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=25)
    assert [p.delay(n) for n in (1, 2, 3)] == [10.0, 20.0, 25.0]
    assert not p.is_dead(2) and p.is_dead(3)


def test_selection() -> None:
    assert window("2026-03", 23, 25) == ("2026-03-23", "2026-03-25")
    with pytest.raises(ValueError):
        window("2026-03", 25, 23)
    rows = [("a", "cold_water", "m1"), ("a", "hot_water", "m2"), ("b", "gas", "m3")]
    assert missing_by_account(rows) == {
        "a": [{"service": "cold_water", "meter": "m1"}, {"service": "hot_water", "meter": "m2"}],
        "b": [{"service": "gas", "meter": "m3"}],
    }
    debts = {"a": (100_000, date(2026, 4, 10)), "b": (50_000, date(2026, 4, 10))}
    assert debt_params("2026-03", debts, 50_000) == {
        "a": {"period": "2026-03", "debt": "1000.00", "penalty_from": "2026-05-11"}
    }


def test_every_kind_renders_text_and_html_with_values_escaped() -> None:
    from core.notify.kinds import ALL_KINDS

    evil = "<b>&"
    samples: dict[str, dict[str, Any]] = {
        READING_WINDOW_OPEN: {"period": "2026-03", "window_from": "2026-03-23",
                              "window_to": "2026-03-25",
                              "meters": [{"service": "gas", "meter": evil}]},
        READING_WINDOW_CLOSES: {"period": "2026-03", "window_to": "2026-03-25",
                                "meters": [{"service": "gas", "meter": evil}]},
        READING_RECEIVED: {"meter": evil, "service": "electricity", "value": "5000,5",
                           "unit": "кВт·ч", "at": "2026-03-05T14:30"},
        EPD_READY: {"period": "2026-03", "total": "1234.50", "link": "https://x/?a=1&b=<2>"},
        DEBT: {"period": "2026-03", "debt": "1.00", "penalty_from": "2026-05-11"},
        HOUSE_BALANCE: {"house": "h1", "address": evil, "service": "cold_water", "percent": "30",
                        "first_day": "2026-03-01", "last_day": "2026-03-05",
                        "house_volume": "500", "premises_volume": "350", "unit": "м³"},
        DEVICE_OFFLINE: {"source": "modbus", "device": evil, "since": "2026-03-09T06:00",
                         "hours": 30, "last_error": "timeout"},
        EMAIL_CONFIRM: {"address": evil, "link": "https://x/c?token=a&b",
                        "expires": "2026-03-12T18:30"},
    }  # fmt: skip
    assert set(samples) == set(ALL_KINDS)  # a new kind needs its sample here
    for kind, params in samples.items():
        r = render(kind, params)
        assert r.subject and r.text.endswith("\n") and r.html.startswith("<!DOCTYPE html>")
        assert "<b>&" not in r.html, kind  # escaped wherever it is shown
        with pytest.raises(ValueError, match=f"notification {kind}: missing"):
            render(kind, {})
    received = render(READING_RECEIVED, samples[READING_RECEIVED])
    assert "5000,5 кВт·ч на 05.03.2026 14:30" in received.text
    epd = render(EPD_READY, samples[EPD_READY])
    assert (
        'href="https://x/?a=1&amp;b=&lt;2&gt;"' in epd.html and "https://x/?a=1&b=<2>" in epd.text
    )


def test_confirm_token_round_trip_expiry_and_tampering() -> None:
    t = confirm_token(b"k" * 32, "ls1", "a@b.ru", expires=2000)
    assert check_confirm_token(b"k" * 32, t, now=1999) == ("ls1", "a@b.ru")
    assert check_confirm_token(b"k" * 32, t, now=2001) is None  # expired
    assert check_confirm_token(b"x" * 32, t, now=1000) is None  # another key
    other = confirm_token(b"k" * 32, "ls2", "a@b.ru", expires=2000)
    assert check_confirm_token(b"k" * 32, other.split(".")[0] + "." + t.split(".")[1], 1) is None
    for junk in ("", ".", "abc", "!!!.00", t + "x"):
        assert check_confirm_token(b"k" * 32, junk, now=1000) is None


def test_domain_limiter_sliding_minute() -> None:
    lim = DomainLimiter(2)
    assert [lim.take("a.ru", t) for t in (0.0, 1.0)] == [0.0, 0.0]
    assert lim.take("a.ru", 2.0) == 58.0 and lim.take("b.ru", 2.0) == 0.0
    assert lim.take("a.ru", 60.5) == 0.0  # the first one left the window
    assert DomainLimiter(0).take("a.ru", 0) == 0.0
    assert domain_of("Ivan@Mail.RU") == "mail.ru" and domain_of("+79001234567") == ""


def test_check_email() -> None:
    assert check_email(" ivanov@mail.ru ") == "ivanov@mail.ru"
    for bad in ("ivanov", "a@b", "a b@c.ru", "<a@b.ru>", "a@b..ru", "Иван <a@b.ru>"):
        with pytest.raises(ValueError, match="не похоже на адрес e-mail"):
            check_email(bad)


def _line(period: date, due: date, debt: int, day: date) -> PeriodLine:
    delay = max(0, (day - due).days)
    return PeriodLine(period.toordinal(), due.toordinal(), debt, 0, debt, delay, 0, 0)


def test_debt_notice_counts_only_the_overdue_periods() -> None:
    day = date(2026, 3, 12)
    lines = (
        _line(date(2026, 1, 1), date(2026, 2, 15), 60_000, day),  # 25 days late
        _line(date(2026, 2, 1), date(2026, 3, 15), 90_000, day),  # due in 3 days
        _line(date(2025, 12, 1), date(2026, 1, 15), 0, day),  # paid
    )
    s = Statement(
        month=date(2026, 3, 1).toordinal(), day=day.toordinal(), opening_balance=0,
        charged=0, paid=0, closing_balance=150_000, periods=lines, penalty_month=0,
        penalty_total=0, penalty_paid=0, allocations=(), advance=0,
    )  # fmt: skip
    assert sum(aging(s).values()) == 150_000  # the aging's total holds the one not due yet
    assert overdue(s) == (60_000, date(2026, 2, 15))
    nothing = Statement(**{**{f: getattr(s, f) for f in s.__slots__}, "periods": lines[1:]})
    assert overdue(nothing) is None


def test_penalty_grace_is_the_ledgers() -> None:
    grace = LedgerSettings().grace_days
    assert (penalty_from(date(2026, 4, 10)) - date(2026, 4, 10)).days == grace + 1
    assert penalty_from(date(2026, 4, 10), 10) == date(2026, 4, 21)
    debts = {"a": (100_000, date(2026, 4, 10))}
    assert debt_params("2026-03", debts, 0, grace_days=10)["a"]["penalty_from"] == "2026-04-21"
