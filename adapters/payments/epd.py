"""The single payment document (ЕПД) of an account for a month as a PDF, with the payment QR
code of ГОСТ Р 56042-2014. fpdf2 draws it with DejaVu Sans (Debian fonts-dejavu-core) for
Cyrillic; segno makes the QR code."""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import segno
from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont

from core.errors import ConfigError
from core.ledger.dates import period_name
from core.ledger.money import format_money
from core.ledger.payment_qr import Payee, payment_qr
from core.ledger.statement import Statement

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


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


def _font(bold: bool) -> Path:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise ConfigError(f"ЕПД: font {name} not found (install Debian fonts-dejavu-core)")


# The characters of the reduced font every ЕПД is drawn with unless its texts need others:
# ASCII, Latin-1, Cyrillic, general punctuation (– — « » …), № and ₽.
COMMON = frozenset(
    [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x400, 0x530), *range(0x2010, 0x2060)]
).union((0x2116, 0x20BD, 0x2212))
# the attributes of fpdf2's TTFFont a document changes (set afresh by _add_font)
_OWN = ("i", "fontkey", "emphasis", "ttfont", "cw", "missing_glyphs", "biggest_size_pt", "subset")


def _reduced(path: Path) -> bytes:
    """The font cut down to COMMON without the layout tables fpdf2 drops: ~700 of its ~6000
    glyphs, so reading and subsetting it per document is cheap."""
    font = ttLib.TTFont(str(path), recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, name_IDs=["*"])
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "MATH", "FFTM", "hdmx", "kern"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=COMMON)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@cache
def _parsed(path: Path, reduced: bool) -> tuple[TTFFont, bytes]:
    """The font (reduced to COMMON, or whole) parsed once per process — widths, glyph ids,
    descriptor — and its bytes: parsing it for every document took about half of the time."""
    data = _reduced(path) if reduced else path.read_bytes()
    return TTFFont(FPDF(), io.BytesIO(data), "probe", ""), data  # type: ignore[arg-type]


def _add_font(pdf: FPDF, family: str, style: str, path: Path, reduced: bool) -> None:
    """``pdf.add_font`` from the parsed font: the read-only tables are shared, the parts a
    document changes are its own — a fresh (lazily read) fontTools font, which writing the
    PDF subsets in place, the used-glyph map and the widths."""
    proto, data = _parsed(path, reduced)
    if any(not hasattr(proto, a) for a in _OWN):  # not the fpdf2 this was written for
        pdf.add_font(family, style, str(path))
        return
    font = TTFFont.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(proto, slot):
            setattr(font, slot, getattr(proto, slot))
    font.i = len(pdf.fonts) + 1
    font.fontkey = f"{family}{style}"
    font.emphasis = TextEmphasis.coerce(style)
    font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
    font.cw = copy.copy(proto.cw)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font


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
    pdf = FPDF(format="A4")
    reduced = all(ord(c) in COMMON for c in _texts(payee, payer, services))
    _add_font(pdf, "dejavu", "", _font(False), reduced)
    _add_font(pdf, "dejavu", "B", _font(True), reduced)
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
