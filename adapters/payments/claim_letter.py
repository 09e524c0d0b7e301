"""The letter of a claim's stage (уведомление, предупреждение, …) as a PDF: the payer, the debt by
period, the penalty calculation attached (per part: days, share 1/300 or 1/130, rate, amount),
the totals, the deadline to pay and the payment QR code. fpdf2 with DejaVu Sans as the ЕПД
(the fonts parsed once: adapters/payments/fonts.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from fpdf import FPDF

from adapters.payments.epd import Payer
from adapters.payments.fonts import dejavu_document
from core.ledger.claims import STAGE_NAMES, Debt, ru_day
from core.ledger.dates import month_of, period_name
from core.ledger.money import format_money, format_rate
from core.ledger.payment_qr import Payee, payment_qr

# days to pay after the letter's date, and what follows if the debt is not paid
TERMS = {
    "notice": (30, "Уведомление (претензия) о задолженности за жилищно-коммунальные услуги",
               "В случае неоплаты задолженность будет взыскана в судебном порядке, с пенями и "
               "судебными расходами."),
    "warning": (20, "Предупреждение о приостановлении (ограничении) коммунальной услуги",
                "В случае непогашения задолженности в течение 20 дней со дня доставки настоящего "
                "предупреждения предоставление коммунальной услуги может быть приостановлено или "
                "ограничено (ПП РФ № 354, пп. 117, 119)."),
    "lawyers": (10, "Уведомление о передаче задолженности для взыскания",
                "Материалы о задолженности переданы юристам для взыскания в судебном порядке."),
    "court": (10, "Уведомление об обращении в суд",
              "Подано заявление о взыскании задолженности в суд."),
    "writ": (10, "Уведомление о принудительном взыскании",
             "Получен исполнительный документ; задолженность будет взыскана принудительно."),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Letter:
    number: str  # e.g. "12-notice"
    stage: str
    day: int  # the letter's date (the stage's day)
    # the stage's recorded debt and penalty due (kopecks): the letter's totals; None: those
    # of the calculation drawn with it
    debt: int | None = None
    penalty: int | None = None

    def figures(self, debt: Debt) -> tuple[int, int]:
        """The letter's debt and penalty due: the recorded ones, else the calculation's."""
        return (
            debt.debt if self.debt is None else self.debt,
            debt.penalty_due if self.penalty is None else self.penalty,
        )


def rub(kopecks: int) -> str:
    return f"{format_money(kopecks)} ₽"


def deadline(letter: Letter) -> int:
    return letter.day + TERMS[letter.stage][0]


def _row(pdf: FPDF, widths: tuple[int, ...], cells: tuple[str, ...], bold: bool = False) -> None:
    pdf.set_font("dejavu", "B" if bold else "", 7.5)
    for i, (w, c) in enumerate(zip(widths, cells, strict=True)):
        pdf.cell(w, 5, c, border=1, align="L" if i == 0 else "R")
    pdf.ln()


def _text(pdf: FPDF, text: str, size: float = 9, bold: bool = False, h: float = 5) -> None:
    pdf.set_font("dejavu", "B" if bold else "", size)
    pdf.multi_cell(0, h, text, new_x="LMARGIN", new_y="NEXT", align="L")


def _debt_table(pdf: FPDF, debt: Debt) -> None:
    widths = (30, 28, 30, 30, 30, 30)
    _row(pdf, widths, ("Период", "Срок оплаты", "Начислено", "Оплачено", "Долг",
                       "Дней просрочки"), bold=True)  # fmt: skip
    for line in debt.lines:
        if line.debt <= 0:
            continue
        _row(pdf, widths, (
            period_name(line.period), ru_day(line.due), format_money(line.charge),
            format_money(line.paid), format_money(line.debt), str(line.delay_days),
        ))  # fmt: skip


def _penalty_table(pdf: FPDF, debt: Debt) -> None:
    widths = (18, 22, 36, 13, 14, 18, 25, 22)
    _row(pdf, widths, ("Период", "Сумма, ₽", "Просрочка с … по", "Дней", "Доля",
                       "Ставка, %", "Оплачено", "Пени, ₽"), bold=True)  # fmt: skip
    capped = False
    for line in debt.lines:
        for p in line.parts:
            capped = capped or p.rate_bp != p.key_bp
            _row(pdf, widths, (
                period_name(p.period), format_money(p.amount),
                f"{ru_day(p.first)}–{ru_day(p.last)}", str(p.days), f"1/{p.share}",
                format_rate(p.rate_bp), "не оплачено" if p.paid_on is None else ru_day(p.paid_on),
                format_money(p.kopecks),
            ))  # fmt: skip
        if line.parts:
            pdf.set_font("dejavu", "B", 7.5)
            pdf.cell(sum(widths[:-1]), 5, f"Пени за {period_name(line.period)}", border=1)
            pdf.cell(widths[-1], 5, format_money(line.penalty), border=1, align="R")
            pdf.ln()
    pdf.set_font("dejavu", "", 7)
    notes = (
        "Пени по ЖК РФ ст.155 ч.14: с 31-го по 90-й день просрочки — 1/300, с 91-го дня — 1/130 "
        "ставки рефинансирования (ключевой ставки) на день оплаты, для неоплаченной части — на "
        "дату расчёта. Пени за период округлены до копеек один раз, поэтому сумма строк может "
        "отличаться на копейки."
    )
    if capped:
        notes += " Ставка не выше 9,5 % (ПП РФ № 474 в редакции ПП РФ № 329) до 01.01.2027."
    pdf.multi_cell(0, 4, notes, new_x="LMARGIN", new_y="NEXT")


def _texts(payee: Payee, payer: Payer, letter: Letter) -> str:
    """The letter's texts that do not come from this module."""
    return "".join(
        (
            *(payee.name, payee.inn, payee.kpp, payee.account, payee.bank, payee.bic),
            *(payee.corr_account, payer.name, payer.address, payer.account, letter.number),
        )
    )


def _differs(debt: Debt, letter: Letter) -> str:
    return (
        f"Расчёт по периодам составлен по данным учёта на {ru_day(letter.day)} с учётом записей, "
        f"внесённых позже: долг {rub(debt.debt)}, пени к оплате {rub(debt.penalty_due)}. Суммы "
        f"письма — зафиксированные на этапе {ru_day(letter.day)}."
    )


def claim_letter_pdf(payee: Payee, payer: Payer, letter: Letter, debt: Debt) -> bytes:
    """The letter of ``letter.stage`` dated ``letter.day`` with ``debt`` as of that day: its
    tables by period; the totals are the letter's recorded ones when it has them — when the
    tables do not add up to those, the letter says so below them."""
    days, title, consequence = TERMS[letter.stage]
    owed, penalty_due = letter.figures(debt)
    total = owed + penalty_due
    same = (owed, penalty_due) == (debt.debt, debt.penalty_due)
    pdf = dejavu_document(_texts(payee, payer, letter))
    pdf.add_page()
    _text(pdf, f"{payee.name}, ИНН {payee.inn}, КПП {payee.kpp}", 8)
    _text(pdf, f"Кому: {payer.name}\nАдрес: {payer.address}\nЛицевой счёт: {payer.account}", 9)
    pdf.ln(3)
    _text(pdf, title, 12, bold=True, h=6)
    _text(pdf, f"№ {letter.number} от {ru_day(letter.day)} · {STAGE_NAMES[letter.stage]}", 8)
    pdf.ln(2)
    _text(
        pdf,
        f"По состоянию на {ru_day(debt.day)} по лицевому счёту {payer.account} числится "
        f"просроченная задолженность за жилищно-коммунальные услуги {rub(owed)} и пени "
        f"{rub(penalty_due)}. Просим погасить {rub(total)} до "
        f"{ru_day(deadline(letter))} ({days} дней с даты письма). {consequence}",
    )
    pdf.ln(2)
    _text(pdf, "Задолженность по периодам", 10, bold=True, h=6)
    _debt_table(pdf, debt)
    pdf.ln(2)
    _text(pdf, "Приложение: расчёт пени", 10, bold=True, h=6)
    _penalty_table(pdf, debt)
    pdf.ln(2)
    if not same:
        _text(pdf, _differs(debt, letter), 8, bold=True, h=4)
        pdf.ln(1)
    pdf.set_font("dejavu", "", 9)
    lines = [("Просроченная задолженность", owed)]
    if same:  # accrued less paid is the penalty due
        lines += [("Пени начислено", debt.penalty_total), ("Пени оплачено", debt.penalty_paid)]
    for label, value in (*lines, ("Пени к оплате", penalty_due)):
        pdf.cell(70, 5, label)
        pdf.cell(35, 5, format_money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(70, 7, "Итого к оплате")
    pdf.cell(35, 7, format_money(total), align="R", new_x="LMARGIN", new_y="NEXT")
    _text(pdf, f"Оплатить до {ru_day(deadline(letter))}", 9, bold=True)
    _text(
        pdf,
        f"Получатель: {payee.name}, р/с {payee.account} в {payee.bank}, БИК {payee.bic}, "
        f"к/с {payee.corr_account}",
        8,
    )
    qr = payment_qr(
        payee,
        kopecks=total,
        account=payer.account,
        period=month_of(letter.day),
        purpose=f"Задолженность по претензии № {letter.number}, л/с {payer.account}",
    )
    png = io.BytesIO()
    segno.make(qr, error="m", encoding="utf-8").save(png, kind="png", scale=4, border=4)
    png.seek(0)
    if pdf.get_y() > 245:
        pdf.add_page()
    pdf.image(png, x=pdf.l_margin, y=pdf.get_y() + 2, w=40)
    return bytes(pdf.output())
