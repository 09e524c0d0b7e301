"""Pure parts of notifications: templates, webhook signatures, retry schedule, selection."""

from __future__ import annotations

from datetime import date

import pytest

from core.notify.backoff import RetryPolicy
from core.notify.kinds import DEBT, READING_WINDOW_OPEN
from core.notify.reminders import debt_params, missing_by_account, window
from core.notify.signing import idempotency_key, signature, verify
from core.notify.templates import render


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
