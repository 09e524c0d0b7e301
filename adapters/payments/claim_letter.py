"""The letter of a claim's stage (уведомление, предупреждение, …) as a PDF: the payer, the debt by
period, the penalty calculation attached (per part: days, share 1/300 or 1/130, rate, amount),
the totals, the deadline to pay and the payment QR code. fpdf2 with DejaVu Sans as the ЕПД;
the fonts are parsed once (see ``_blank``)."""

from __future__ import annotations

import copy
import io
import threading
from dataclasses import dataclass

import segno
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import TTFFont

from adapters.payments.epd import Payer, _font
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


def _new() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font("dejavu", "", str(_font(False)))
    pdf.add_font("dejavu", "B", str(_font(True)))
    pdf.set_auto_page_break(True, margin=15)
    return pdf


_lock = threading.Lock()
_template: list[FPDF] = []


def _blank() -> FPDF:
    """A new document with the DejaVu fonts: a copy of a template whose fonts are parsed once
    (their glyph widths and maps), each copy with its own re-opened (lazy) font file — fpdf2
    shares the parsed TrueType object between copies and subsets it in place when writing, so
    a shared one would lose glyphs. ~40 % faster per letter than loading the fonts anew; falls
    back to that if fpdf2's font objects change shape."""
    with _lock:
        if not _template:
            _template.append(_new())
    pdf = copy.deepcopy(_template[0])
    for font in pdf.fonts.values():
        path = getattr(font, "ttffile", None)
        if path is None or not hasattr(font, "ttfont"):
            return _new()
        font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    return pdf


@dataclass(frozen=True, slots=True)
class Letter:
    number: str  # e.g. "12-notice"
    stage: str
    day: int  # the letter's date (the stage's day)


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


def claim_letter_pdf(payee: Payee, payer: Payer, letter: Letter, debt: Debt) -> bytes:
    """The letter of ``letter.stage`` dated ``letter.day`` with ``debt`` as of that day."""
    days, title, consequence = TERMS[letter.stage]
    total = debt.debt + debt.penalty_due
    pdf = _blank()
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
        f"просроченная задолженность за жилищно-коммунальные услуги {rub(debt.debt)} и пени "
        f"{rub(debt.penalty_due)}. Просим погасить {rub(total)} до "
        f"{ru_day(deadline(letter))} ({days} дней с даты письма). {consequence}",
    )
    pdf.ln(2)
    _text(pdf, "Задолженность по периодам", 10, bold=True, h=6)
    _debt_table(pdf, debt)
    pdf.ln(2)
    _text(pdf, "Приложение: расчёт пени", 10, bold=True, h=6)
    _penalty_table(pdf, debt)
    pdf.ln(2)
    pdf.set_font("dejavu", "", 9)
    for label, value in (
        ("Просроченная задолженность", debt.debt),
        ("Пени начислено", debt.penalty_total),
        ("Пени оплачено", debt.penalty_paid),
        ("Пени к оплате", debt.penalty_due),
    ):
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
    out = bytes(pdf.output())
    for font in pdf.fonts.values():  # this letter's own font files (not the template's)
        if isinstance(font, TTFFont):
            font.ttfont.close()
    return out
