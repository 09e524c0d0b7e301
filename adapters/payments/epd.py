"""The single payment document (ЕПД) of an account for a month as a PDF, with the payment QR
code of ГОСТ Р 56042-2014. fpdf2 draws it with DejaVu Sans for Cyrillic (parsed once:
adapters/payments/fonts.py); segno makes the QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import segno

from adapters.payments.fonts import dejavu_document
from core.ledger.dates import period_name
from core.ledger.money import format_money
from core.ledger.payment_qr import Payee, payment_qr
from core.ledger.statement import Statement


@dataclass(frozen=True, slots=True)
class Payer:
    account: str
    name: str
    address: str
    area: str  # m², as text
    residents: int


@dataclass(frozen=True, slots=True)
class ServiceLine:
    service: str
    volume: str
    unit: str
    tariff: str
    amount: int  # kopecks
    recalculation: int = 0  # kopecks


def _texts(payee: Payee, payer: Payer, services: list[ServiceLine]) -> str:
    """The document's texts that do not come from this module."""
    return "".join(
        [*(str(v) for v in (payee.name, payee.bank, payer.name, payer.address, payer.area))]
        + [payer.account, payee.inn, payee.kpp, payee.account, payee.bic, payee.corr_account]
        + [f"{s.service}{s.volume}{s.unit}{s.tariff}" for s in services]
    )


def epd_pdf(
    payee: Payee, payer: Payer, s: Statement, services: list[ServiceLine], due: int
) -> tuple[bytes, str]:
    """The PDF and its QR payload; the sum to pay is the closing balance plus penalty due."""
    to_pay = max(s.closing_balance, 0) + max(s.penalty_total - s.penalty_paid, 0)
    period = s.month
    qr = payment_qr(
        payee,
        kopecks=to_pay,
        account=payer.account,
        period=period,
        purpose=f"ЖКУ за {period_name(period)}, л/с {payer.account}",
    )
    pdf = dejavu_document(_texts(payee, payer, services))
    pdf.add_page()
    pdf.set_font("dejavu", "B", 13)
    title = f"Единый платёжный документ за {period % 12 + 1:02d}.{period // 12}"
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 9)
    for line in (
        f"Получатель: {payee.name}, ИНН {payee.inn}, КПП {payee.kpp}",
        f"р/с {payee.account} в {payee.bank}, БИК {payee.bic}, к/с {payee.corr_account}",
        f"Плательщик: {payer.name}",
        f"Адрес: {payer.address}",
        f"Лицевой счёт: {payer.account}   Площадь: {payer.area} м²   Проживает: {payer.residents}",
    ):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (50, 25, 15, 25, 35, 35)
    heads = ("Услуга", "Объём", "Ед.", "Тариф, ₽", "Перерасчёт, ₽", "Начислено, ₽")
    pdf.set_font("dejavu", "B", 8)
    for w, h in zip(widths, heads, strict=True):
        pdf.cell(w, 6, h, border=1)
    pdf.ln()
    pdf.set_font("dejavu", "", 8)
    for sl in services:
        cells = (
            sl.service,
            sl.volume,
            sl.unit,
            sl.tariff,
            format_money(sl.recalculation),
            format_money(sl.amount),
        )
        for w, c in zip(widths, cells, strict=True):
            pdf.cell(w, 6, c, border=1)
        pdf.ln()
    pdf.ln(2)
    pdf.set_font("dejavu", "", 9)
    for label, value in (
        ("Задолженность на начало месяца", s.opening_balance),
        ("Начислено за месяц", s.charged),
        ("Оплачено в месяце", s.paid),
        ("Пени за месяц", s.penalty_month),
        ("Пени к оплате", s.penalty_total - s.penalty_paid),
    ):
        pdf.cell(90, 5, label)
        pdf.cell(40, 5, format_money(value), new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(90, 7, "Итого к оплате")
    pdf.cell(40, 7, format_money(to_pay), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 9)
    pdf.cell(0, 5, f"Оплатить до {date.fromordinal(due):%d.%m.%Y}", new_x="LMARGIN", new_y="NEXT")
    png = io.BytesIO()
    segno.make(qr, error="m", encoding="utf-8").save(png, kind="png", scale=4, border=4)
    png.seek(0)
    pdf.image(png, x=150, y=pdf.get_y() - 40, w=45)
    return bytes(pdf.output()), qr
