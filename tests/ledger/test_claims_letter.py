"""The claim letter PDF: its text names the payer, the debt by period, and the penalty
calculation whose per-period totals and sums are the ledger statement's own figures; the QR
code asks for the debt plus the penalty due."""

from __future__ import annotations

import io
from typing import Any

import pytest

from core.ledger.allocate import settle
from core.ledger.claims import debt_as_of
from core.ledger.dates import parse_day, parse_period
from core.ledger.money import format_money
from core.ledger.payment_qr import parse_payment_qr
from core.ledger.statement import statement
from tests.ledger.test_claims import NO_CAP, RATES, _account
from tests.ledger.test_epd import PAYEE

pypdf = pytest.importorskip("pypdf", reason="pypdf (test extra) reads the PDF's text")
zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (test extra) decodes the QR")
letters = pytest.importorskip("adapters.payments.claim_letter", reason="fpdf2 draws the letter")
epd = pytest.importorskip("adapters.payments.epd")
fonts = pytest.importorskip("adapters.payments.fonts")

PAYER = epd.Payer(
    "100001", "Иванов Иван Иванович", "г. Тверь, ул. Советская, д. 10, кв. 5", "54.3", 2
)


def _letter(stage: str, day: str) -> tuple[str, Any, dict[str, str]]:
    from core.ledger.case import parse_key_rates

    d = parse_day(day, "day")
    rates = parse_key_rates(RATES)
    settled = settle(_account(), d, rates, NO_CAP)  # type: ignore[arg-type]
    debt = debt_as_of(settled, d, rates, NO_CAP)
    pdf = letters.claim_letter_pdf(PAYEE, PAYER, letters.Letter(f"7-{stage}", stage, d), debt)
    assert pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    s = statement(settled, parse_period(day[:7], "m"), d, rates, NO_CAP)
    images = [i for page in reader.pages for i in page.images]
    (image,) = images
    (code,) = zxingcpp.read_barcodes(image.image)
    return text, (debt, s), parse_payment_qr(code.text)


def test_the_notice_carries_the_ledgers_debt_and_penalty_lines() -> None:
    text, (debt, s), qr = _letter("notice", "2026-08-15")
    flat = " ".join(text.split())
    for words in (
        "Уведомление (претензия) о задолженности",
        "№ 7-notice от 15.08.2026",
        "Кому: Иванов Иван Иванович",
        "Лицевой счёт: 100001",
        "Приложение: расчёт пени",
        "Оплатить до 14.09.2026",  # 30 days
        f"Пени начислено {format_money(s.penalty_total)}",
        f"Пени оплачено {format_money(s.penalty_paid)}",
        f"Пени к оплате {format_money(s.penalty_due)}",
        f"Просроченная задолженность {format_money(debt.debt)}",
        f"Итого к оплате {format_money(debt.debt + s.penalty_due)}",
    ):
        assert words in flat, (words, flat)
    assert debt.lines and s.periods
    for line in s.periods:  # the period totals are the statement's, rounded once
        assert f"Пени за {line.period // 12}-{line.period % 12 + 1:02d} " in flat
        name = f"{line.period // 12}-{line.period % 12 + 1:02d}"
        assert f"Пени за {name} {format_money(line.penalty_total)}" in flat, name
    for line in debt.lines:
        for p in line.parts:  # each part's row: amount, days, share, rate, rounded penalty
            row = f"{format_money(p.amount)} "
            tail = f"{p.days} 1/{p.share} {p.rate_bp // 100}.{p.rate_bp % 100:02d}"
            assert row in flat and tail in flat, (row, tail)
            assert format_money(p.kopecks) in flat
    assert qr["Sum"] == str(debt.debt + s.penalty_due) and qr["PersAcc"] == "100001"
    assert qr["PersonalAcc"] == PAYEE.account


def test_the_warning_gives_twenty_days_and_cites_pp354() -> None:
    text, _, _ = _letter("warning", "2026-05-04")
    flat = " ".join(text.split())
    assert "Предупреждение о приостановлении (ограничении)" in flat
    assert "в течение 20 дней со дня доставки" in flat and "ПП РФ № 354" in flat
    assert "Оплатить до 24.05.2026" in flat


def test_letters_in_a_row_keep_their_glyphs() -> None:
    """Each letter embeds its own font subset: one drawn after another still has every glyph."""
    for stage in ("notice", "court", "writ", "lawyers"):
        text, _, _ = _letter(stage, "2026-08-15")
        assert f"№ 7-{stage} от 15.08.2026" in " ".join(text.split())
    assert fonts._parsed.cache_info().hits >= 6  # the fonts parsed once, as the ЕПД's


def _drawn(letter: Any, debt: Any) -> tuple[str, dict[str, str]]:
    pdf = letters.claim_letter_pdf(PAYEE, PAYER, letter, debt)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    (image,) = [i for page in reader.pages for i in page.images]
    (code,) = zxingcpp.read_barcodes(image.image)
    return text, parse_payment_qr(code.text)


def test_the_totals_are_the_stages_recorded_figures() -> None:
    """A letter drawn again after entries changed the ledger as of its day asks for what the
    stage recorded, and says the tables by period were recalculated and what they add up to."""
    from core.ledger.case import parse_key_rates

    d = parse_day("2026-08-15", "day")
    rates = parse_key_rates(RATES)
    debt = debt_as_of(settle(_account(), d, rates, NO_CAP), d, rates, NO_CAP)  # type: ignore[arg-type]
    same = letters.Letter("7-notice", "notice", d, debt=debt.debt, penalty=debt.penalty_due)
    text, qr = _drawn(same, debt)
    assert "с учётом записей, внесённых позже" not in text
    assert f"Пени начислено {format_money(debt.penalty_total)}" in text
    recorded = (debt.debt + 50000, debt.penalty_due + 1234)
    older = letters.Letter("7-notice", "notice", d, debt=recorded[0], penalty=recorded[1])
    text, qr = _drawn(older, debt)
    assert f"Просроченная задолженность {format_money(recorded[0])}" in text
    assert f"Пени к оплате {format_money(recorded[1])}" in text
    assert f"Итого к оплате {format_money(sum(recorded))}" in text
    assert qr["Sum"] == str(sum(recorded))
    assert "с учётом записей, внесённых позже" in text
    assert (
        f"долг {format_money(debt.debt)} ₽, пени к оплате {format_money(debt.penalty_due)}" in text
    )
    assert "Пени начислено" not in text  # it would not add up to the recorded penalty
