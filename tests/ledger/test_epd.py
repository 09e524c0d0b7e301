"""The ЕПД PDF: its text carries the payer, the sums and the payee; its QR image decodes to the
ГОСТ Р 56042-2014 fields with the sum to pay in kopecks."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from core.ledger import LedgerError
from core.ledger.allocate import settle
from core.ledger.case import parse_account, parse_key_rates
from core.ledger.dates import due_date, last_day, parse_day, parse_period
from core.ledger.model import LedgerSettings
from core.ledger.payment_qr import Payee, parse_payment_qr, payment_qr
from core.ledger.statement import Statement, statement

pypdf = pytest.importorskip("pypdf", reason="pypdf (test extra) reads the PDF's text")
zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (test extra) decodes the QR")
epd = pytest.importorskip("adapters.payments.epd", reason="fpdf2 and segno draw the ЕПД")
fonts = pytest.importorskip("adapters.payments.fonts")

PAYEE = Payee(
    name="ООО «УК Дом»",
    inn="7701234567",
    kpp="770101001",
    account="40702810900000012345",
    bank="ПАО СБЕРБАНК",
    bic="044525225",
    corr_account="30101810400000000225",
)


def _statement() -> Statement:
    as_of = parse_day("2026-05-31", "as_of")
    account = parse_account(
        {
            "id": "100001",
            "opening_debt": [["2025-12", "1500.00"]],
            "charges": [["2026-01", "3210.44"], ["2026-02", "2987.10"], ["2026-04", "3000.00"]],
            "payments": [{"id": "p1", "date": "2026-02-09", "amount": "3000.00"}],
        },
        0,
        as_of,
        set(),
    )
    rates = parse_key_rates([["2025-06-09", "20.00"]])
    s = LedgerSettings()
    month = parse_period("2026-05", "m")
    return statement(settle(account, as_of, rates, s), month, last_day(month), rates, s)


def test_the_epd_text_and_its_qr_code() -> None:
    s = _statement()
    payer = epd.Payer(
        "100001", "Иванов Иван Иванович", "г. Москва, ул. Ленина, д. 1, кв. 5", "54.30", 3
    )
    services = [epd.ServiceLine("Холодная вода", "4.500000", "м³", "48.20", 21690, -500)]
    due = due_date(parse_period("2026-05", "m"), None)
    pdf, payload = epd.epd_pdf(PAYEE, payer, s, services, due)
    assert pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    to_pay = s.closing_balance + s.penalty_total - s.penalty_paid
    rubles = f"{to_pay // 100}.{to_pay % 100:02d}"
    for words in (
        "Единый платёжный документ за 05.2026",
        "Иванов Иван Иванович",
        "Лицевой счёт: 100001",
        "Холодная вода",
        "Итого к оплате",
        rubles,
        "Оплатить до 15.06.2026",
        "ИНН 7701234567",
    ):
        assert words in text, (words, text)
    (image,) = reader.pages[0].images
    decoded = zxingcpp.read_barcodes(image.image)
    assert [d.text for d in decoded] == [payload]
    fields = parse_payment_qr(decoded[0].text)
    assert fields["Sum"] == str(to_pay)
    assert fields["PersAcc"] == "100001" and fields["PaymPeriod"] == "052026"
    assert fields["PersonalAcc"] == PAYEE.account and fields["BIC"] == PAYEE.bic
    assert fields["Name"] == "ООО «УК Дом»" and fields["PayeeINN"] == "7701234567"


def test_the_payload_refuses_bad_details() -> None:
    good = payment_qr(PAYEE, kopecks=123456, account="1", period=24315, purpose="ЖКУ")
    assert good.startswith("ST00012|Name=ООО «УК Дом»|PersonalAcc=40702810900000012345|")
    assert "|Sum=123456|" in good and good.endswith("|PaymPeriod=042026")
    with pytest.raises(LedgerError, match="BIC"):
        payment_qr(replace(PAYEE, bic="04452522"), kopecks=1, account="1", period=1, purpose="x")
    with pytest.raises(LedgerError, match=r"'\|'"):
        payment_qr(PAYEE, kopecks=1, account="1|2", period=1, purpose="x")


def _text(pdf: bytes) -> str:
    return str(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text())


def test_the_font_parsed_once_draws_what_parsing_per_document_draws(monkeypatch) -> None:
    """The reduced, once-parsed DejaVu Sans gives each document its own glyph subset: the text
    read back equals that of a document whose fonts fpdf2 parsed itself, a second document
    with other letters is whole too, and a text outside the reduced set takes the whole font."""
    s = _statement()
    due = due_date(parse_period("2026-05", "m"), None)
    lines = [epd.ServiceLine("Электроэнергия", "210", "кВт·ч", "6.43", 135030)]
    first = epd.Payer("100001", "Щукин Юрий", "г. Тверь, ул. Жёлтая, д. 3", "54.30", 3)
    second = epd.Payer("100002", "Фёдорова Эльза", "г. Чита, пр. Ёлочный, № 7", "33", 1)
    fast = [epd.epd_pdf(PAYEE, p, s, lines, due)[0] for p in (first, second)]
    assert fonts._parsed.cache_info().currsize >= 2  # the reduced fonts, parsed once
    with monkeypatch.context() as m:
        m.setattr(
            fonts, "add_font", lambda pdf, family, style, path, reduced: pdf.add_font(
                family, style, str(path)
            ),
        )  # fmt: skip
        slow = [epd.epd_pdf(PAYEE, p, s, lines, due)[0] for p in (first, second)]
    for a, b in zip(fast, slow, strict=True):
        assert _text(a) == _text(b)
    assert "Фёдорова Эльза" in _text(fast[1]) and "№ 7" in _text(fast[1])
    assert "Щукин Юрий" in _text(fast[0]) and "кВт·ч" in _text(fast[0])
    assert len(fast[0]) < len(slow[0]) * 1.2
    greek = epd.Payer("100003", "Ωмега", "ул. Σ, д. 1", "10", 1)
    reduced: list[bool] = []
    add_font = fonts.add_font
    monkeypatch.setattr(fonts, "add_font", lambda *a: reduced.append(a[-1]) or add_font(*a))
    assert "Ωмега" in _text(epd.epd_pdf(PAYEE, greek, s, lines, due)[0])
    epd.epd_pdf(PAYEE, first, s, lines, due)
    assert reduced == [False, False, True, True]  # Ω and Σ are not in the reduced font
